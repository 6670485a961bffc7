"""What frames and series share: the rows they stand on, column versions, SQL helpers, the
Index, and the errors for what weft's pandas does not do."""

import itertools
import re

from weft._expr import literal, quote
from weft._table import Table

_versions = itertools.count(1)
_names = itertools.count()

# Columns the module adds for its own work; never shown, never written out.
HIDDEN = "__weft_"


class NotSupported(NotImplementedError):
    """A pandas feature weft's pandas does not have; the message names the nearest way."""


def unsupported(what, instead):
    """The error for `what`, pointing to `instead`."""
    return NotSupported(what + " is not supported by weft's pandas (which runs in the host's "
                        "query engine); " + instead)


def fresh(prefix="c"):
    """A hidden column name no one else uses."""
    return HIDDEN + prefix + str(next(_names))


class Rows:
    """A table and the version of each of its columns. Frames and series over the same rows
    (no filter, sort or join between them) share ``token``, so a mask made before a column
    was added still applies; a column's version changes whenever it is assigned."""

    __slots__ = ("table", "token", "vers")

    def __init__(self, table, token=None, vers=None):
        self.table = table
        self.token = token if token is not None else object()
        self.vers = vers if vers is not None else {c: next(_versions) for c in table.columns}

    def same_rows(self, table, changed=()):
        """``table`` (the same rows, in the same order) with ``changed`` columns given new versions."""
        vers = {c: self.vers.get(c, 0) for c in table.columns}
        for c in changed:
            vers[c] = next(_versions)
        return Rows(table, self.token, vers)

    def new_rows(self, table):
        """``table`` as rows of its own (after a filter, sort, slice or join)."""
        return Rows(table)

    def fits(self, deps):
        return all(self.vers.get(c) == v for c, v in deps.items())


def common(parts):
    """The rows on which every (rows, deps) of ``parts`` can be computed."""
    tokens = {id(r.token) for r, _ in parts}
    if len(tokens) > 1:
        raise ValueError("these values come from different rows (a filter, sort or merge came "
                         "between them); take them from the same DataFrame")
    deps = {}
    for _, d in parts:
        for c, v in d.items():
            if deps.get(c, v) != v:
                raise ValueError("column " + repr(c) + " was assigned between these values; "
                                 "take them from the DataFrame again")
            deps[c] = v
    for r, _ in sorted(parts, key=lambda p: -len(p[0].vers)):
        if r.fits(deps):
            return r, deps
    raise ValueError("a column changed between these values; take them from the DataFrame again")


def sql_of(value):
    """SQL for a scalar (Series are handled by their callers)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    return literal(value)


def ordered(q, sources):
    """A query whose ORDER BY matters, run now: the engine keeps the order of a table it scans
    but drops an ORDER BY inside a subquery, so a later operation must start from the result."""
    t = Table._lazy(q, sources)
    t._materialize()
    return t


def query(rows, select, where=None, order=None, limit=None, offset=None):
    """A lazy table: ``SELECT select FROM rows [WHERE] [ORDER BY] [LIMIT] [OFFSET]``."""
    src, sources = rows.table._source()
    q = "SELECT " + select + " FROM " + src
    if where:
        q += " WHERE " + where
    if order:
        q += " ORDER BY " + order
    if limit is not None:
        q += " LIMIT " + str(int(limit))
    if offset:
        q += " OFFSET " + str(int(offset))
    return ordered(q, sources) if order else Table._lazy(q, sources)


def scalar(rows, expr):
    """One value computed over ``rows``."""
    values = query(rows, expr + " AS " + quote("v")).column("v")
    return values[0] if values else None


def listed(value):
    if isinstance(value, (list, tuple, Index)):
        return list(value)
    return [value]


class _StrNames:
    """``df.columns.str``: Python's string methods over the names."""

    def __init__(self, names):
        self._names = names

    def __getattr__(self, method):
        def apply(*args, **kwargs):
            if method == "replace":
                pat, repl = args[0], args[1]
                if kwargs.get("regex"):
                    return Index([re.sub(pat, repl, n) for n in self._names])
                return Index([n.replace(pat, repl) for n in self._names])
            if method == "contains":
                return [args[0] in n for n in self._names]
            return Index([getattr(str(n), method)(*args, **kwargs) for n in self._names])

        return apply


class Index:
    """Column names (or a result's labels): a list with pandas' ``.str``, ``tolist()``..."""

    def __init__(self, values, name=None):
        self._values = list(values)
        self.name = name

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Index(self._values[i])
        return self._values[i]

    def __contains__(self, v):
        return v in self._values

    def __eq__(self, other):
        return [v == o for v, o in zip(self._values, listed(other))] if isinstance(other, (list, tuple, Index)) else [v == other for v in self._values]

    def __repr__(self):
        return "Index(" + repr(self._values) + ")"

    def __add__(self, other):
        return Index(self._values + listed(other))

    @property
    def str(self):
        return _StrNames(self._values)

    @property
    def values(self):
        return list(self._values)

    def tolist(self):
        return list(self._values)

    to_list = tolist

    def map(self, fn):
        return Index([fn(v) for v in self._values])

    def difference(self, other):
        other = set(listed(other))
        return Index([v for v in self._values if v not in other])

    def intersection(self, other):
        other = set(listed(other))
        return Index([v for v in self._values if v in other])

    def get_loc(self, v):
        return self._values.index(v)


def as_pandas_types(table, columns):
    """``table`` made from Python ``columns`` (name → values) with pandas' types: integers
    with a missing value become floats, as pandas makes them."""
    to_float = [
        name for name, values in columns.items()
        if any(v is None for v in values)
        and any(v is not None for v in values)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in values if v is not None)
    ]
    return table.cast({c: "float64" for c in to_float}) if to_float else table


class GroupKey:
    """A grouping key held in a column of its own, shown under ``name``."""

    def __init__(self, column, name):
        self.column, self.name = column, name
