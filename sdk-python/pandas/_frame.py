"""DataFrame: a host-owned table with pandas' API; every operation becomes SQL for the host
engine, run when rows, a count or the block's output are needed."""

import collections

from weft._expr import quote
from weft._table import Table

from . import _core
from ._core import HIDDEN, Index, Rows, listed, query, sql_of, unsupported
from ._dtypes import Dtype, from_arrow, sql_type
from ._series import Series, _wrap, attach, _python_note


def _table_from(data, columns=None):
    if data is None:
        return Table.from_pydict({c: [] for c in columns or []})
    if isinstance(data, Table):
        return data
    if isinstance(data, DataFrame):
        return data._to_table()
    if isinstance(data, dict):
        values = {k: (v.tolist() if isinstance(v, Series) else v) for k, v in data.items()}
        lengths = {len(v) for v in values.values() if isinstance(v, (list, tuple, range))}
        n = lengths.pop() if len(lengths) == 1 else (0 if not lengths else None)
        if n is None:
            raise ValueError("All arrays must be of the same length")
        values = {k: (list(v) if isinstance(v, (list, tuple, range)) else [v] * max(n, 1)) for k, v in values.items()}
        return _from_columns(values)
    rows = list(data)
    if rows and isinstance(rows[0], dict):
        names = list(dict.fromkeys(k for r in rows for k in r))
        return _from_columns({k: [r.get(k) for r in rows] for k in names})
    if rows and isinstance(rows[0], (list, tuple)):
        names = list(columns) if columns is not None else [str(i) for i in range(len(rows[0]))]
        return _from_columns({k: [r[i] for r in rows] for i, k in enumerate(names)})
    if columns is not None and len(list(columns)) == 1:
        return _from_columns({list(columns)[0]: rows})
    return _from_columns({"0": rows})


def _from_columns(columns):
    return _core.as_pandas_types(Table.from_pydict(columns), columns)


class DataFrame:
    """Rows and named columns, computed in the host engine. See the module documentation."""

    def __init__(self, data=None, columns=None, index=None, dtype=None):
        table = _table_from(data, columns)
        if columns is not None and isinstance(data, (dict, Table, DataFrame)):
            table = table.select(*[c for c in listed(columns)])
        if dtype is not None:
            table = table.cast({c: sql_type(dtype) for c in table.columns})
        self._rows, self._index = Rows(table), []

    # ----------------------------------------------------------------- plumbing
    @classmethod
    def _from_table(cls, table, index=()):
        df = cls.__new__(cls)
        df._rows, df._index = Rows(table), list(index)
        return df

    @classmethod
    def _on(cls, rows, index=()):
        df = cls.__new__(cls)
        df._rows, df._index = rows, list(index)
        return df

    @classmethod
    def _over(cls, rows, cols, index=()):
        """Columns ``(name, sql)`` computed over ``rows``: the same rows, so series still align."""
        t = query(rows, ", ".join(sql + " AS " + quote(n) for n, sql in cols))
        changed = [n for n, sql in cols if sql != quote(n)]
        return cls._on(rows.same_rows(t, changed), index)

    def _to_table(self):
        visible = [c for c in self._rows.table.columns if not c.startswith(HIDDEN)]
        if len(visible) == len(self._rows.table.columns):
            return self._rows.table
        return self._rows.table.select(*visible)

    def _cols(self):
        return [c for c in self._rows.table.columns if c not in self._index and not c.startswith(HIDDEN)]

    def _all(self):
        return [c for c in self._rows.table.columns if not c.startswith(HIDDEN)]

    def _series(self, name):
        if name not in self._rows.table.columns:
            raise KeyError(name)
        return _wrap(self._rows, quote(name), {name: self._rows.vers[name]}, name, self._index)

    def _set(self, name, sql, deps_rows=None):
        rows = deps_rows or self._rows
        cols = [(c, quote(c)) for c in rows.table.columns]
        if name in rows.table.columns:
            cols = [(c, sql if c == name else s) for c, s in cols]
        else:
            cols.append((name, sql))
        t = query(rows, ", ".join(s + " AS " + quote(n) for n, s in cols))
        self._rows = rows.same_rows(t, changed=[name])

    def _new(self, table, index=None):
        return DataFrame._from_table(table, self._index if index is None else index)

    # ----------------------------------------------------------------- shape
    @property
    def columns(self):
        return Index(self._cols())

    @columns.setter
    def columns(self, names):
        names = [str(n) for n in listed(names)]
        old = self._cols()
        if len(names) != len(old):
            raise ValueError("Length mismatch: Expected axis has " + str(len(old)) + " elements, new values have " + str(len(names)) + " elements")
        mapping = dict(zip(old, names))
        renamed = self.rename(columns=mapping)
        self._rows, self._index = renamed._rows, renamed._index

    @property
    def dtypes(self):
        return {c.name: Dtype(from_arrow(c.type)) for c in self._rows.table.schema if c.name in self._cols()}

    @property
    def shape(self):
        return (len(self), len(self._cols()))

    @property
    def empty(self):
        return len(self) == 0 or not self._cols()

    @property
    def size(self):
        return len(self) * len(self._cols())

    @property
    def index(self):
        if self._index:
            return Index(query(self._rows, quote(self._index[0]) + " AS " + quote("i")).column("i"))
        return Index(range(len(self)))

    def __len__(self):
        return self._rows.table.num_rows

    def __contains__(self, name):
        return name in self._cols()

    def __iter__(self):
        return iter(self._cols())

    def __repr__(self):
        head = self.head(10).to_dict("records")
        return "DataFrame(" + str(len(self)) + " rows; columns " + ", ".join(self._cols()) + ")\n" + "\n".join(repr(r) for r in head)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._rows.table.columns:
            return self._series(name)
        raise unsupported("DataFrame." + name, _HINTS.get(name, "see the list of supported methods in weft's README"))

    # ----------------------------------------------------------------- selection
    def __getitem__(self, key):
        if isinstance(key, Series):
            return self._filtered(key)
        if isinstance(key, slice):
            return self.iloc[key]
        if isinstance(key, (list, tuple, Index)):
            names = list(key)
            missing = [n for n in names if n not in self._rows.table.columns]
            if missing:
                raise KeyError(str(missing) + " not in index")
            return DataFrame._over(self._rows, [(c, quote(c)) for c in self._index + names], self._index)
        return self._series(key)

    def __setitem__(self, key, value):
        if isinstance(value, Series):
            rows, _ = _core.common([(self._rows, self._mine()), (value._rows, value._deps)])
            self._set(key, value._sql, rows)
        elif isinstance(value, (list, tuple, range)):
            values = list(value)
            if len(values) != len(self):
                raise ValueError("Length of values (" + str(len(values)) + ") does not match length of index (" + str(len(self)) + ")")
            s = attach(self._rows, {}, values, key)
            self._set(key, s._sql, s._rows)
        elif isinstance(value, DataFrame):
            raise unsupported("assigning a DataFrame to a column", "assign one of its columns: df[name] = other[col]")
        else:
            self._set(key, sql_of(value))

    def _mine(self):
        """Every column of this frame at its version: what a value must agree with."""
        return {c: self._rows.vers[c] for c in self._rows.table.columns}

    def _filtered(self, mask):
        rows, _ = _core.common([(self._rows, self._mine()), (mask._rows, mask._deps)])
        cols = ", ".join(quote(c) for c in self._rows.table.columns)
        return self._new(query(rows, cols, where=mask._sql))

    @property
    def loc(self):
        return _Loc(self)

    @property
    def iloc(self):
        return _Iloc(self)

    def _slice(self, start, stop):
        n = None if stop is None else max(0, stop - (start or 0))
        cols = ", ".join(quote(c) for c in self._rows.table.columns)
        return self._new(query(self._rows, cols, limit=n, offset=start))

    def head(self, n=5):
        return self._slice(0, n)

    def tail(self, n=5):
        return self._slice(max(0, len(self) - n), None)

    def copy(self, deep=True):
        return DataFrame._on(self._rows, self._index)

    def get(self, key, default=None):
        return self[key] if key in self._rows.table.columns else default

    # ----------------------------------------------------------------- reshaping columns
    def rename(self, columns=None, mapper=None, axis=None, inplace=False, **_kw):
        mapping = columns if columns is not None else mapper
        if mapping is None:
            return self.copy()
        fn = mapping if callable(mapping) else (lambda c: mapping.get(c, c))
        names = {c: (c if c in self._index else str(fn(c))) for c in self._all()}
        t = query(self._rows, ", ".join(quote(c) + " AS " + quote(n) for c, n in names.items()))
        vers = {n: self._rows.vers[c] for c, n in names.items()}
        out = DataFrame._on(Rows(t, self._rows.token, vers), self._index)
        return self._inplace(out, inplace)

    def _inplace(self, out, inplace):
        if inplace:
            self._rows, self._index = out._rows, out._index
            return None
        return out

    def drop(self, labels=None, axis=0, columns=None, errors="raise", inplace=False, **_kw):
        names = listed(columns if columns is not None else labels)
        if columns is None and axis not in (1, "columns"):
            raise unsupported("dropping rows by label", "filter with a mask: df[~cond]")
        missing = [n for n in names if n not in self._cols()]
        if missing and errors == "raise":
            raise KeyError(str(missing) + " not found in axis")
        keep = [c for c in self._rows.table.columns if c not in names]
        out = DataFrame._over(self._rows, [(c, quote(c)) for c in keep], self._index)
        return self._inplace(out, inplace)

    def assign(self, **columns):
        out = self.copy()
        for name, value in columns.items():
            out[name] = value(out) if callable(value) else value
        return out

    def astype(self, dtype, errors="raise"):
        mapping = dtype if isinstance(dtype, dict) else {c: dtype for c in self._cols()}
        out = self.copy()
        for c, t in mapping.items():
            out[c] = out[c].astype(t)
        return out

    def fillna(self, value=None, inplace=False, method=None, **_kw):
        if method is not None or value is None:
            raise unsupported("fillna(method=...) / ffill / bfill", "fill with a value: df.fillna(0) or a dict per column")
        mapping = value if isinstance(value, dict) else {c: value for c in self._cols()}
        out = self.copy()
        for c, v in mapping.items():
            if c in out._rows.table.columns:
                out[c] = out[c].fillna(v)
        return self._inplace(out, inplace)

    def isna(self):
        return DataFrame._over(self._rows, [(c, self[c].isna()._sql) for c in self._cols()], self._index)

    isnull = isna

    def notna(self):
        return DataFrame._over(self._rows, [(c, self[c].notna()._sql) for c in self._cols()], self._index)

    notnull = notna

    def set_axis(self, labels, axis=1):
        out = self.copy()
        out.columns = labels
        return out

    # ----------------------------------------------------------------- rows
    def dropna(self, axis=0, how="any", thresh=None, subset=None, inplace=False, **_kw):
        if axis not in (0, "index") or thresh is not None:
            raise unsupported("dropna(axis=1) / dropna(thresh=...)", "drop rows with any or all of `subset` missing, or drop columns by name")
        names = listed(subset) if subset is not None else self._cols()
        tests = [self[c].isna()._sql for c in names]
        cond = " OR ".join(tests) if how == "any" else " AND ".join(tests)
        cols = ", ".join(quote(c) for c in self._rows.table.columns)
        out = self._new(query(self._rows, cols, where="NOT (" + (cond or "FALSE") + ")"))
        return self._inplace(out, inplace)

    def drop_duplicates(self, subset=None, keep="first", inplace=False, ignore_index=False):
        names = listed(subset) if subset is not None else self._cols()
        if keep not in ("first", "last"):
            raise unsupported("drop_duplicates(keep=False)", "keep='first' or keep='last'")
        pos = _core.fresh("pos")
        src, sources = self._rows.table._source()
        cols = ", ".join(quote(c) for c in self._rows.table.columns)
        pick = "min" if keep == "first" else "max"
        inner = "SELECT *, row_number() OVER () AS " + quote(pos) + " FROM " + src
        q = ("WITH n AS (" + inner + ") SELECT " + cols + " FROM n WHERE " + quote(pos) + " IN (SELECT "
             + pick + "(" + quote(pos) + ") FROM n GROUP BY " + ", ".join(quote(c) for c in names) + ") ORDER BY " + quote(pos))
        return self._inplace(self._new(_core.ordered(q, sources)), inplace)

    def sort_values(self, by, ascending=True, na_position="last", inplace=False, ignore_index=False, **_kw):
        names = listed(by)
        asc = ascending if isinstance(ascending, (list, tuple)) else [ascending] * len(names)
        nulls = " NULLS LAST" if na_position == "last" else " NULLS FIRST"
        pos = _core.fresh("pos")
        src, sources = self._rows.table._source()
        cols = ", ".join(quote(c) for c in self._rows.table.columns)
        order = ", ".join(quote(n) + (" ASC" if a else " DESC") + nulls for n, a in zip(names, asc))
        # Stable, as pandas' sort is for equal keys: ties keep their order.
        q = ("SELECT " + cols + " FROM (SELECT *, row_number() OVER () AS " + quote(pos) + " FROM " + src
             + ") ORDER BY " + order + ", " + quote(pos))
        return self._inplace(self._new(_core.ordered(q, sources)), inplace)

    def sort_index(self, ascending=True):
        if self._index:
            return self.sort_values(self._index, ascending=ascending)
        return self.copy()

    def reset_index(self, drop=False, inplace=False, **_kw):
        if drop:
            out = self.drop(columns=self._index) if self._index else self.copy()
            out._index = []
        else:
            out = DataFrame._on(self._rows, [])
        return self._inplace(out, inplace)

    def set_index(self, keys, drop=True):
        out = DataFrame._on(self._rows, listed(keys))
        return out

    def nlargest(self, n, columns):
        return self.sort_values(columns, ascending=False).head(n)

    def nsmallest(self, n, columns):
        return self.sort_values(columns).head(n)

    def sample(self, *_a, **_kw):
        raise unsupported("DataFrame.sample", "take head(n) of a sort, or filter on a hash: df[df['id'] % 10 == 0]")

    # ----------------------------------------------------------------- combining
    def groupby(self, by, as_index=True, sort=True, dropna=True, **_kw):
        from ._groupby import GroupBy

        return GroupBy(self, listed(by), as_index, sort, dropna)

    def merge(self, right, how="inner", on=None, left_on=None, right_on=None, suffixes=("_x", "_y"), **kw):
        from ._reshape import merge

        return merge(self, right, how=how, on=on, left_on=left_on, right_on=right_on, suffixes=suffixes, **kw)

    def join(self, *_a, **_kw):
        raise unsupported("DataFrame.join (by index)", "merge on columns: df.merge(other, on=key)")

    # ----------------------------------------------------------------- reductions
    def _per_column(self, fn, numeric_only=False):
        cols = [c for c in self._cols() if not numeric_only or self.dtypes[c].kind in "ifb"]
        values = {c: fn(self[c]) for c in cols}
        return Series(list(values.values()), index=list(values.keys()))

    def sum(self, numeric_only=False, **_kw):
        return self._per_column(Series.sum, numeric_only)

    def mean(self, numeric_only=True, **_kw):
        return self._per_column(Series.mean, True)

    def min(self, numeric_only=False, **_kw):
        return self._per_column(Series.min, numeric_only)

    def max(self, numeric_only=False, **_kw):
        return self._per_column(Series.max, numeric_only)

    def count(self, **_kw):
        return self._per_column(Series.count)

    def nunique(self, **_kw):
        return self._per_column(Series.nunique)

    def value_counts(self, subset=None, normalize=False, sort=True, ascending=False):
        names = listed(subset) if subset is not None else self._cols()
        g = self.groupby(names).size()
        return g.sort_values(ascending=ascending) if sort else g

    # ----------------------------------------------------------------- Python over rows
    def apply(self, fn, axis=0, **kwargs):
        if axis in (1, "columns"):
            _python_note()
            values = [fn(_Row(r), **kwargs) for r in self.to_dict("records")]
            return attach(self._rows, {}, values, None, self._index)
        values = {c: fn(self[c], **kwargs) for c in self._cols()}
        return Series(list(values.values()), index=list(values.keys()))

    def to_dict(self, orient="dict"):
        rows = query(self._rows, ", ".join(quote(c) for c in self._all())).to_pylist()
        cols = self._cols()
        labels = [r[self._index[0]] for r in rows] if self._index else list(range(len(rows)))
        if orient == "records":
            return [{c: r.get(c) for c in cols} for r in rows]
        if orient == "list":
            return {c: [r.get(c) for r in rows] for c in cols}
        if orient == "dict":
            return {c: {i: r.get(c) for i, r in zip(labels, rows)} for c in cols}
        if orient == "index":
            return {i: {c: r.get(c) for c in cols} for i, r in zip(labels, rows)}
        raise unsupported("to_dict(orient=" + repr(orient) + ")", "use dict, list, records or index")

    def itertuples(self, index=True, name="Pandas"):
        cols = self._cols()
        fields = (["Index"] if index else []) + [c if c.isidentifier() and not c.startswith("_") else "_" + str(i + 1) for i, c in enumerate(cols)]
        make = collections.namedtuple(name or "Row", fields, rename=True)
        for i, r in enumerate(self.to_dict("records")):
            yield make(*(([i] if index else []) + [r.get(c) for c in cols]))

    def iterrows(self):
        for i, r in enumerate(self.to_dict("records")):
            yield i, _Row(r)

    def items(self):
        for c in self._cols():
            yield c, self[c]

    # ----------------------------------------------------------------- out
    def to_parquet(self, path, partition_cols=None, **_kw):
        from weft import io

        target = path if "://" in str(path) else "file://" + str(path)
        options = {"format": "parquet", "if_exists": "replace"}
        if partition_cols:
            options["partition_by"] = listed(partition_cols)
        return io.write(self._to_table(), target, **options)

    def to_csv(self, path=None, sep=",", index=False, mode="w", header=True, columns=None, **_kw):
        from weft import io

        if sep != "," or mode != "w" or header is not True:
            raise unsupported("to_csv with sep, mode or header", "write a comma-separated file with a header; to add rows, concat first")
        if columns is not None:
            return self[listed(columns)].to_csv(path)
        if path is None:
            raise unsupported("to_csv() without a path", "write to a granted file:// or local:// path")
        target = path if "://" in str(path) else "file://" + str(path)
        return io.write(self._to_table(), target, format="csv", if_exists="replace")

    def to_sql(self, *_a, **_kw):
        raise unsupported("DataFrame.to_sql", "use mage_ai.io.postgres.Postgres(...).export(df, schema, table) or weft.io.write")


class _Row(dict):
    """One row (``iterrows``, ``apply(axis=1)``): a dict that also answers ``row.col``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def index(self):
        return Index(list(self.keys()))

    def to_dict(self):
        return dict(self)


class _Loc:
    def __init__(self, df):
        self._df = df

    def _rows(self, key):
        if isinstance(key, Series):
            return self._df._filtered(key)
        if isinstance(key, slice) and key == slice(None):
            return self._df
        raise unsupported("loc with row labels", "weft's frames have no row labels; use a boolean mask or iloc")

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, cols = key
            frame = self._rows(rows)
            return frame[cols]
        return self._rows(key)

    def __setitem__(self, key, value):
        rows, col = key if isinstance(key, tuple) else (key, None)
        if col is None or not isinstance(col, str):
            raise unsupported("loc assignment to several columns", "assign one column at a time: df.loc[mask, 'col'] = value")
        df = self._df
        if isinstance(rows, slice) and rows == slice(None):
            df[col] = value
            return
        if not isinstance(rows, Series):
            raise unsupported("loc assignment with row labels", "use a boolean mask")
        parts = [(df._rows, df._mine()), (rows._rows, rows._deps)]
        if isinstance(value, Series):
            parts.append((value._rows, value._deps))
        base, _ = _core.common(parts)
        new = value._sql if isinstance(value, Series) else sql_of(value)
        old = quote(col) if col in base.table.columns else "NULL"
        df._set(col, "CASE WHEN " + rows._sql + " THEN " + new + " ELSE " + old + " END", base)


class _Iloc:
    def __init__(self, df):
        self._df = df

    def __getitem__(self, key):
        rows, cols = key if isinstance(key, tuple) else (key, None)
        df = self._df
        if cols is not None:
            names = df._cols()
            picked = [names[i] for i in (range(len(names))[cols] if isinstance(cols, slice) else listed(cols))]
            df = df[picked]
        if isinstance(rows, slice):
            if rows.step not in (None, 1) or (rows.start or 0) < 0 or (rows.stop is not None and rows.stop < 0):
                raise unsupported("iloc with a step or negative bounds", "use head/tail or a mask")
            return df._slice(rows.start or 0, rows.stop)
        if isinstance(rows, int):
            i = rows if rows >= 0 else len(df) + rows
            records = df._slice(i, i + 1).to_dict("records")
            if not records:
                raise IndexError("single positional indexer is out-of-bounds")
            return _Row(records[0])
        raise unsupported("iloc[" + type(rows).__name__ + "]", "use an int or a slice")


_HINTS = {
    "pivot_table": "group and aggregate: df.groupby([row, col]).agg(...)",
    "pivot": "group and aggregate: df.groupby([row, col]).agg(...)",
    "melt": "build the rows in Python and DataFrame(rows), or SQL through weft's Table API",
    "query": "filter with a mask: df[df['a'] > 1]",
    "eval": "compute with column expressions: df['c'] = df['a'] + df['b']",
    "describe": "aggregate what you need: df['a'].mean(), .min(), .max(), .count()",
    "info": "look at df.dtypes and len(df)",
    "resample": "floor the timestamps and group: df.groupby(df['t'].dt.floor('h'))",
    "to_excel": "write csv or parquet: df.to_parquet('file://out/') within the block's grants",
    "plot": "plots cannot be drawn in a block",
}
