"""Series: one column of a frame as an expression the host engine computes."""

from weft._expr import literal, quote
from weft._table import Table

from . import _core
from ._core import Index, Rows, listed, query, sql_of, unsupported
from ._dtypes import Dtype, from_arrow, sql_type


_COMPARISONS = (">", ">=", "<", "<=", "=", "<>")

# The column holding the labels of a Series made from values and an index.
_LABELS = _core.HIDDEN + "labels"


def _wrap(rows, sql, deps, name, index=()):
    s = Series.__new__(Series)
    s._rows, s._sql, s._deps, s.name, s._index = rows, sql, dict(deps), name, list(index)
    return s


def _python_note():
    """Said once per block: Python functions over rows run in the guest."""
    from weft import context

    if not getattr(_python_note, "said", False):
        _python_note.said = True
        context.log("weft's pandas: apply/map with a Python function runs row by row in the "
                    "block (correct, slower than the host engine); a column expression is faster",
                    "warning")


class Series:
    """A column: ``df["fare"] * 1.2``, ``df["a"] > 0``... computed in the host engine."""

    def __init__(self, data=None, index=None, dtype=None, name=None):
        if isinstance(data, dict):
            index, data = list(data.keys()), list(data.values())
        values = [] if data is None else list(data)
        col = "value"
        cols = {col: values}
        labels = []
        if index is not None:
            cols = {_LABELS: list(index), col: values}
            labels = [_LABELS]
        table = _core.as_pandas_types(Table.from_pydict(cols), cols)
        if dtype is not None:
            table = table.cast({col: sql_type(dtype)})
        rows = Rows(table)
        self._rows, self._sql, self._deps, self.name, self._index = rows, quote(col), {col: rows.vers[col]}, name, labels

    # ----------------------------------------------------------------- plumbing
    def _with(self, sql, name=None, keep_name=True):
        return _wrap(self._rows, sql, self._deps, self.name if keep_name else name, self._index)

    def _binary(self, op, other, reverse=False):
        if isinstance(other, Series):
            rows, deps = _core.common([(self._rows, self._deps), (other._rows, other._deps)])
            o = other._sql
            name = self.name if self.name == other.name else None
        elif isinstance(other, (list, tuple)):
            raise unsupported("an operation with a list", "use a column or a single value")
        else:
            rows, deps, o, name = self._rows, self._deps, sql_of(other), self.name
        a, b = (o, self._sql) if reverse else (self._sql, o)
        if op in _COMPARISONS and self.dtype.kind in "fOM":
            # A missing float, text or time compares False (True for !=), as in pandas; only
            # nullable integers and booleans answer <NA>.
            return _wrap(rows, "COALESCE((" + a + " " + op + " " + b + "), " + ("TRUE" if op == "<>" else "FALSE") + ")", deps, name, self._index)
        if op == "/":
            sql = "(CAST(" + a + " AS DOUBLE) / " + b + ")"
        elif op == "//":
            sql = "CAST(floor(CAST(" + a + " AS DOUBLE) / " + b + ") AS BIGINT)"
        elif op == "**":
            sql = "power(" + a + ", " + b + ")"
        elif op == "%":
            # The sign of the divisor, as Python's and pandas' modulo.
            sql = "(((" + a + " % " + b + ") + " + b + ") % " + b + ")"
        else:
            sql = "(" + a + " " + op + " " + b + ")"
        return _wrap(rows, sql, deps, name, self._index)

    def _values_table(self, name="v"):
        return query(self._rows, self._sql + " AS " + quote(name))

    def _agg(self, fn):
        return _core.scalar(self._rows, fn)

    # ----------------------------------------------------------------- operators
    def __gt__(self, o): return self._binary(">", o)
    def __ge__(self, o): return self._binary(">=", o)
    def __lt__(self, o): return self._binary("<", o)
    def __le__(self, o): return self._binary("<=", o)
    def __eq__(self, o): return self._binary("=", o)  # noqa: E704
    def __ne__(self, o): return self._binary("<>", o)
    def __and__(self, o): return self._binary("AND", o)
    def __or__(self, o): return self._binary("OR", o)
    def __xor__(self, o): return self._binary("<>", o)
    def __rand__(self, o): return self._binary("AND", o, True)
    def __ror__(self, o): return self._binary("OR", o, True)
    def __add__(self, o): return self._binary("+", o)
    def __radd__(self, o): return self._binary("+", o, True)
    def __sub__(self, o): return self._binary("-", o)
    def __rsub__(self, o): return self._binary("-", o, True)
    def __mul__(self, o): return self._binary("*", o)
    def __rmul__(self, o): return self._binary("*", o, True)
    def __truediv__(self, o): return self._binary("/", o)
    def __rtruediv__(self, o): return self._binary("/", o, True)
    def __floordiv__(self, o): return self._binary("//", o)
    def __mod__(self, o): return self._binary("%", o)
    def __pow__(self, o): return self._binary("**", o)

    __hash__ = None

    def __invert__(self):
        return self._with("(NOT " + self._sql + ")")

    def __neg__(self):
        return self._with("(- " + self._sql + ")")

    def __abs__(self):
        return self.abs()

    def __bool__(self):
        raise ValueError("The truth value of a Series is ambiguous: combine conditions with & and |, "
                         "or use .any() / .all()")

    def __len__(self):
        return self._rows.table.num_rows

    def __iter__(self):
        return iter(self.tolist())

    def __contains__(self, label):
        return label in self.index

    def __repr__(self):
        values = self.head(10).tolist()
        return "Series(" + repr(values) + (", ..." if len(self) > 10 else "") + ", name=" + repr(self.name) + ")"

    def __getitem__(self, key):
        if isinstance(key, Series):
            return self._filtered(key)
        if isinstance(key, slice):
            return self.iloc[key]
        if self._index:
            return self.to_dict()[key]
        return self.iloc[key]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported("Series." + name, _HINTS.get(name, "see the list of supported methods in weft's README"))

    # ----------------------------------------------------------------- shape and values
    @property
    def dtype(self):
        t = query(self._rows, self._sql + " AS " + quote("v"))
        return Dtype(from_arrow(t.schema[0].type))

    dtypes = dtype

    @property
    def shape(self):
        return (len(self),)

    @property
    def size(self):
        return len(self)

    @property
    def empty(self):
        return len(self) == 0

    @property
    def index(self):
        if self._index:
            labels = query(self._rows, quote(self._index[0]) + " AS " + quote("i")).column("i")
            # A Series made from values and labels has an unnamed index, as in pandas.
            return Index(labels, name=None if self._index[0] == _LABELS else self._index[0])
        return Index(range(len(self)))

    @property
    def values(self):
        return self.tolist()

    def tolist(self):
        return self._values_table().column("v")

    to_list = tolist
    to_numpy = tolist

    def to_dict(self):
        if self._index:
            t = query(self._rows, quote(self._index[0]) + " AS " + quote("i") + ", " + self._sql + " AS " + quote("v"))
            return {r["i"]: r["v"] for r in t.to_pylist()}
        return dict(enumerate(self.tolist()))

    def items(self):
        return iter(self.to_dict().items())

    def to_frame(self, name=None):
        from ._frame import DataFrame

        col = name or self.name or 0
        return DataFrame._over(self._rows, [(str(col), self._sql)], self._index)

    def reset_index(self, drop=False, name=None):
        from ._frame import DataFrame

        col = name or self.name or 0
        cols = [] if drop else [(c, quote(c)) for c in self._index]
        if drop:
            return _wrap(self._rows, self._sql, self._deps, self.name)
        return DataFrame._over(self._rows, cols + [(str(col), self._sql)], [])

    def rename(self, name):
        return _wrap(self._rows, self._sql, self._deps, name, self._index)

    def copy(self, deep=True):
        return _wrap(self._rows, self._sql, self._deps, self.name, self._index)

    # ----------------------------------------------------------------- rows
    def _filtered(self, mask):
        rows, _ = _core.common([(self._rows, self._deps), (mask._rows, mask._deps)])
        name = _core.fresh("v")
        t = query(rows, self._sql + " AS " + quote(name), where=mask._sql)
        r = rows.new_rows(t)
        return _wrap(r, quote(name), {name: r.vers[name]}, self.name)

    def _sliced(self, start, stop):
        name = _core.fresh("v")
        n = None if stop is None else max(0, stop - (start or 0))
        t = query(self._rows, self._sql + " AS " + quote(name), limit=n, offset=start)
        r = self._rows.new_rows(t)
        return _wrap(r, quote(name), {name: r.vers[name]}, self.name)

    @property
    def iloc(self):
        return _SeriesIloc(self)

    @property
    def loc(self):
        return _SeriesLoc(self)

    def head(self, n=5):
        return self._sliced(0, n)

    def tail(self, n=5):
        total = len(self)
        return self._sliced(max(0, total - n), None)

    def sort_values(self, ascending=True, na_position="last"):
        name = _core.fresh("v")
        order = quote(name) + (" ASC" if ascending else " DESC") + (" NULLS LAST" if na_position == "last" else " NULLS FIRST")
        t = query(self._rows, self._sql + " AS " + quote(name), order=order)
        r = self._rows.new_rows(t)
        return _wrap(r, quote(name), {name: r.vers[name]}, self.name)

    def drop_duplicates(self, keep="first"):
        return self.to_frame("v").drop_duplicates(keep=keep)["v"].rename(self.name)

    def unique(self):
        seen, out = set(), []
        for v in self.tolist():
            key = ("nan",) if v != v else v
            if key not in seen:
                seen.add(key)
                out.append(v)
        return out

    def dropna(self):
        return self._filtered(self.notna())

    # ----------------------------------------------------------------- element-wise
    def isna(self):
        return self._with("(" + self._sql + " IS NULL OR isnan(" + self._num() + "))" if self._is_float() else "(" + self._sql + " IS NULL)")

    isnull = isna

    def notna(self):
        return ~self.isna()

    notnull = notna

    def _is_float(self):
        return self.dtype.kind == "f"

    def _num(self):
        return "CAST(" + self._sql + " AS DOUBLE)"

    def fillna(self, value):
        if isinstance(value, Series):
            return self._binary_fn("COALESCE", value)
        if self._is_float():
            return self._with("CASE WHEN " + self._sql + " IS NULL OR isnan(" + self._sql + ") THEN " + sql_of(value) + " ELSE " + self._sql + " END")
        return self._with("COALESCE(" + self._sql + ", " + sql_of(value) + ")")

    def _binary_fn(self, fn, other):
        rows, deps = _core.common([(self._rows, self._deps), (other._rows, other._deps)])
        return _wrap(rows, fn + "(" + self._sql + ", " + other._sql + ")", deps, self.name, self._index)

    def isin(self, values):
        values = list(values.tolist() if isinstance(values, Series) else values)
        if not values:
            return self._with("FALSE")
        has_null = any(v is None for v in values)
        items = ", ".join(sql_of(v) for v in values if v is not None) or "NULL"
        sql = "COALESCE(" + self._sql + " IN (" + items + "), FALSE)"
        if has_null:
            sql = "(" + sql + " OR " + self._sql + " IS NULL)"
        return self._with(sql)

    def between(self, left, right, inclusive="both"):
        lo = (self >= left) if inclusive in ("both", "left") else (self > left)
        hi = (self <= right) if inclusive in ("both", "right") else (self < right)
        return (lo & hi).rename(self.name)

    def astype(self, dtype):
        t = sql_type(dtype)
        if t == "VARCHAR" and self.dtype.kind == "b":
            return self._with("CASE WHEN " + self._sql + " THEN 'True' WHEN NOT " + self._sql + " THEN 'False' END")
        return self._with("CAST(" + self._sql + " AS " + t + ")")

    def where(self, cond, other=None):
        if isinstance(cond, Series):
            rows, deps = _core.common([(self._rows, self._deps), (cond._rows, cond._deps)])
            o = other._sql if isinstance(other, Series) else sql_of(other)
            return _wrap(rows, "CASE WHEN " + cond._sql + " THEN " + self._sql + " ELSE " + o + " END", deps, self.name, self._index)
        raise unsupported("Series.where with a non-Series condition", "pass a boolean Series")

    def mask(self, cond, other=None):
        return self.where(~cond, other)

    def abs(self):
        return self._with("abs(" + self._sql + ")")

    def round(self, decimals=0):
        return self._with("round(" + self._sql + ", " + str(int(decimals)) + ")")

    def clip(self, lower=None, upper=None):
        sql = self._sql
        if lower is not None:
            sql = "greatest(" + sql + ", " + sql_of(lower) + ")"
        if upper is not None:
            sql = "least(" + sql + ", " + sql_of(upper) + ")"
        # greatest/least skip a missing value; pandas keeps it missing.
        return self._with("CASE WHEN " + self._sql + " IS NULL THEN NULL ELSE " + sql + " END")

    def map(self, arg, na_action=None):
        if na_action == "ignore" and callable(arg):
            return self.apply(lambda v: None if v is None else arg(v))
        if isinstance(arg, dict):
            cases = " ".join("WHEN " + self._sql + " = " + sql_of(k) + " THEN " + sql_of(v) for k, v in arg.items() if k is not None)
            return self._with("CASE " + cases + " ELSE NULL END" if cases else "NULL")
        return self.apply(arg)

    def apply(self, fn, *args, **kwargs):
        if not callable(fn):
            raise unsupported("Series.apply with " + type(fn).__name__, "pass a function")
        _python_note()
        values = [fn(v, *args, **kwargs) for v in self.tolist()]
        return attach(self._rows, self._deps, values, self.name, self._index)

    # ----------------------------------------------------------------- reductions
    def sum(self, skipna=True, **_kw):
        v = self._agg("sum(" + self._sql + ")") if self.dtype.kind != "b" else self._agg("sum(CAST(" + self._sql + " AS BIGINT))")
        return 0 if v is None else v

    def mean(self, skipna=True, **_kw):
        return self._agg("avg(" + self._num() + ")")

    def median(self, skipna=True, **_kw):
        return self._agg("median(" + self._num() + ")")

    def min(self, skipna=True, **_kw):
        return self._agg("min(" + self._sql + ")")

    def max(self, skipna=True, **_kw):
        return self._agg("max(" + self._sql + ")")

    def std(self, ddof=1, **_kw):
        return self._agg(("stddev_samp(" if ddof == 1 else "stddev_pop(") + self._num() + ")")

    def var(self, ddof=1, **_kw):
        return self._agg(("var_samp(" if ddof == 1 else "var_pop(") + self._num() + ")")

    def count(self):
        return self._agg("count(" + self._sql + ")")

    def nunique(self, dropna=True):
        return self._agg("count(DISTINCT " + self._sql + ")")

    def any(self, **_kw):
        return bool(self._agg("bool_or(" + self._sql + ")"))

    def all(self, **_kw):
        v = self._agg("bool_and(" + self._sql + ")")
        return True if v is None else bool(v)

    def idxmax(self):
        pairs = [(i, v) for i, v in self.to_dict().items() if v is not None]
        return max(pairs, key=lambda p: p[1])[0] if pairs else None

    def idxmin(self):
        pairs = [(i, v) for i, v in self.to_dict().items() if v is not None]
        return min(pairs, key=lambda p: p[1])[0] if pairs else None

    def value_counts(self, normalize=False, sort=True, ascending=False, dropna=True):
        from ._frame import DataFrame

        name = self.name if self.name is not None else "value"
        where = None if not dropna else self._sql + " IS NOT NULL"
        src, sources = self._rows.table._source()
        pos = _core.fresh("pos")
        inner = ("SELECT " + self._sql + " AS " + quote(name) + ", row_number() OVER () AS " + quote(pos)
                 + " FROM " + src + (" WHERE " + where if where else ""))
        agg = "count(*)" if not normalize else "CAST(count(*) AS DOUBLE) / sum(count(*)) OVER ()"
        direction = "ASC" if ascending else "DESC"
        q = ("SELECT " + quote(name) + ", " + agg + " AS " + quote("count" if not normalize else "proportion")
             + " FROM (" + inner + ") GROUP BY " + quote(name)
             + (" ORDER BY 2 " + direction + ", min(" + quote(pos) + ")" if sort else " ORDER BY min(" + quote(pos) + ")"))
        t = _core.ordered(q, sources)
        frame = DataFrame._from_table(t, index=[name])
        return frame["count" if not normalize else "proportion"]

    # ----------------------------------------------------------------- accessors
    @property
    def dt(self):
        from ._accessors import DatetimeAccessor

        return DatetimeAccessor(self)

    @property
    def str(self):
        from ._accessors import StringAccessor

        return StringAccessor(self)


def attach(rows, deps, values, name, index=()):
    """A Series of Python-computed ``values`` (one per row of ``rows``, in order) standing on
    the same rows: joined back by position in the host."""
    col = _core.fresh("apply")
    pos = _core.fresh("pos")
    computed = Table.from_pydict({pos: list(range(1, len(values) + 1)), col: values})
    src, sources = rows.table._source()
    csrc, csources = computed._source()
    cols = ", ".join("o." + quote(c) for c in rows.table.columns)
    q = ("SELECT " + cols + ", c." + quote(col) + " FROM (SELECT *, row_number() OVER () AS " + quote(pos)
         + " FROM " + src + ") AS o LEFT JOIN " + csrc + " AS c ON o." + quote(pos) + " = c." + quote(pos)
         + " ORDER BY o." + quote(pos))
    t = _core.ordered(q, dict(sources, **csources))
    r = rows.same_rows(t, changed=[col])
    return _wrap(r, quote(col), dict(deps, **{col: r.vers[col]}), name, index)


class _SeriesIloc:
    def __init__(self, s):
        self._s = s

    def __getitem__(self, key):
        if isinstance(key, slice):
            if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop is not None and key.stop < 0):
                raise unsupported("iloc with a step or negative bounds", "use head/tail or a mask")
            return self._s._sliced(key.start or 0, key.stop)
        if isinstance(key, int):
            i = key if key >= 0 else len(self._s) + key
            values = self._s._sliced(i, i + 1).tolist()
            if not values:
                raise IndexError("single positional indexer is out-of-bounds")
            return values[0]
        raise unsupported("Series.iloc[" + type(key).__name__ + "]", "use an int, a slice or a mask")


class _SeriesLoc:
    def __init__(self, s):
        self._s = s

    def __getitem__(self, key):
        if isinstance(key, Series):
            return self._s._filtered(key)
        return self._s[key]


_HINTS = {
    "groupby": "group the DataFrame: df.groupby(col)[name].sum()",
    "rolling": "use SQL window functions through weft's Table API: table.sql(...)",
    "shift": "use SQL window functions (lag) through weft's Table API: table.sql(...)",
    "cumsum": "use SQL window functions through weft's Table API: table.sql(...)",
    "rank": "use SQL window functions through weft's Table API: table.sql(...)",
    "plot": "plots cannot be drawn in a block",
    "explode": "build the rows in Python and DataFrame(rows)",
}

__all__ = ["Series", "attach"]
