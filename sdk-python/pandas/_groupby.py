"""``df.groupby(...)``: aggregates computed by the host engine, groups sorted by key."""

from weft._expr import quote
from weft._table import Table

from . import _core
from ._core import listed, unsupported

_FUNCS = {
    "sum": lambda c: "COALESCE(sum(" + c + "), 0)",
    "mean": lambda c: "avg(CAST(" + c + " AS DOUBLE))",
    "median": lambda c: "median(CAST(" + c + " AS DOUBLE))",
    "min": lambda c: "min(" + c + ")",
    "max": lambda c: "max(" + c + ")",
    "count": lambda c: "count(" + c + ")",
    "size": lambda c: "count(*)",
    "nunique": lambda c: "count(DISTINCT " + c + ")",
    "std": lambda c: "stddev_samp(CAST(" + c + " AS DOUBLE))",
    "var": lambda c: "var_samp(CAST(" + c + " AS DOUBLE))",
    "first": lambda c: "first_value(" + c + " ORDER BY " + quote(_POS) + ") FILTER (WHERE " + c + " IS NOT NULL)",
    "last": lambda c: "last_value(" + c + " ORDER BY " + quote(_POS) + ") FILTER (WHERE " + c + " IS NOT NULL)",
    "any": lambda c: "bool_or(" + c + ")",
    "all": lambda c: "bool_and(" + c + ")",
}
_ALIASES = {"average": "mean", "nanmean": "mean", "len": "size"}
_POS = _core.HIDDEN + "gpos"


def _func(f):
    name = f if isinstance(f, str) else getattr(f, "__name__", None)
    name = _ALIASES.get(name, name)
    if name not in _FUNCS:
        raise unsupported("groupby aggregation " + repr(f), "use one of " + ", ".join(sorted(_FUNCS)) + " (Python functions over groups are not run)")
    return name


class GroupBy:
    """Groups of a DataFrame by key columns (or key Series of the same rows)."""

    def __init__(self, df, keys, as_index=True, sort=True, dropna=True, selection=None):
        self._df, self._as_index, self._sort, self._dropna = df, as_index, sort, dropna
        self._keys, self._names = [], {}
        for k in keys:
            if isinstance(k, str):
                if k not in df._rows.table.columns:
                    raise KeyError(k)
                self._keys.append(k)
            elif isinstance(k, _core.GroupKey):
                self._keys.append(k.column)
                self._names[k.column] = k.name
            else:  # a Series of the same rows: grouped by its values, named after it
                col = _core.fresh("key")
                df = df.copy()
                df[col] = k
                self._keys.append(col)
                self._names[col] = k.name if k.name is not None else "key"
        self._df = df
        self._selection = selection

    def __getitem__(self, cols):
        keys = [_core.GroupKey(k, self._names[k]) if k in self._names else k for k in self._keys]
        return GroupBy(self._df, keys, self._as_index, self._sort, self._dropna, cols)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._df._rows.table.columns:
            return self[name]
        raise unsupported("GroupBy." + name, "use agg with " + ", ".join(sorted(_FUNCS)))

    def _values(self):
        if self._selection is None:
            return [c for c in self._df._cols() if c not in self._keys]
        return listed(self._selection)

    def _run(self, outputs, series):
        """``outputs``: (name, aggregate SQL); ``series``: answer a Series of the one output."""
        from ._frame import DataFrame

        src, sources = self._df._rows.table._source()
        keys = ", ".join(quote(k) for k in self._keys)
        inner = "SELECT *, row_number() OVER () AS " + quote(_POS) + " FROM " + src
        where = " WHERE " + " AND ".join(quote(k) + " IS NOT NULL" for k in self._keys) if self._dropna else ""
        names = [self._names.get(k, k) for k in self._keys]
        select = ", ".join([quote(k) + " AS " + quote(n) for k, n in zip(self._keys, names)] + [sql + " AS " + quote(n) for n, sql in outputs])
        order = " ORDER BY " + keys if self._sort else " ORDER BY min(" + quote(_POS) + ")"
        q = "SELECT " + select + " FROM (" + inner + ")" + where + " GROUP BY " + keys + order
        t = _core.ordered(q, sources)
        if not self._as_index:
            return DataFrame._from_table(t)
        frame = DataFrame._from_table(t, index=names)
        if series:
            s = frame[outputs[0][0]]
            s.name = None if outputs[0][0] == "size" and self._selection is None else s.name
            return s
        return frame

    def agg(self, arg=None, *args, **named):
        if named:
            outputs = []
            for out, spec in named.items():
                col, f = (spec.column, spec.aggfunc) if hasattr(spec, "aggfunc") else spec
                outputs.append((out, _FUNCS[_func(f)](quote(col))))
            return self._run(outputs, False)
        if isinstance(arg, dict):
            outputs = []
            for col, f in arg.items():
                if isinstance(f, (list, tuple)):
                    raise unsupported("agg with a list of functions per column (MultiIndex columns)", "use named aggregation: agg(a_sum=('a', 'sum'), a_max=('a', 'max'))")
                outputs.append((col, _FUNCS[_func(f)](quote(col))))
            return self._run(outputs, False)
        single = isinstance(self._selection, str)
        if isinstance(arg, (list, tuple)):
            if not single:
                raise unsupported("agg with a list of functions over several columns (MultiIndex columns)", "use named aggregation: agg(a_sum=('a', 'sum'), a_max=('a', 'max'))")
            return self._run([(_func(f), _FUNCS[_func(f)](quote(self._selection))) for f in arg], False)
        f = _func(arg)
        return self._run([(c, _FUNCS[f](quote(c))) for c in self._values()], single)

    aggregate = agg

    def _one(self, f):
        return self.agg(f)

    def sum(self, **_kw):
        return self._one("sum")

    def mean(self, **_kw):
        return self._one("mean")

    def median(self, **_kw):
        return self._one("median")

    def min(self, **_kw):
        return self._one("min")

    def max(self, **_kw):
        return self._one("max")

    def count(self):
        return self._one("count")

    def nunique(self):
        return self._one("nunique")

    def std(self, **_kw):
        return self._one("std")

    def first(self):
        return self._one("first")

    def last(self):
        return self._one("last")

    def size(self):
        return self._run([("size", "count(*)")], self._as_index)

    def apply(self, *_a, **_kw):
        raise unsupported("GroupBy.apply", "use agg with " + ", ".join(sorted(_FUNCS)))

    transform = apply
