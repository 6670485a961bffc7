"""Table: a host-owned Arrow table with a small dataframe API that runs in the host engine.

Operations are lazy: each one is checked at once (an unknown column raises ``TableError``
naming it), but the work runs as one query in the host only when rows, a row count or the
block's output are needed.
"""

import datetime
import itertools
import json
from dataclasses import dataclass

from componentize_py_types import Err
from wit_world.imports import compute, types

from ._expr import Expr, literal, quote, sql_type

_ids = itertools.count()


class TableError(Exception):
    """A table operation the host engine refused; the message names the column or table."""


@dataclass(frozen=True)
class Column:
    """One column of a table's schema."""

    name: str
    type: str
    nullable: bool


def _call(fn, *args):
    try:
        return fn(*args)
    except Err as e:
        raise TableError(getattr(e.value, "value", str(e.value))) from None


class Table:
    """A table owned by the host. See the module documentation."""

    def __init__(self, handle=None, name=None, *, _query=None, _sources=None):
        self._handle = handle
        self._name = name
        self._query = _query
        self._sources = _sources or {}
        self._schema = None

    # ----------------------------------------------------------------- plumbing
    @classmethod
    def _lazy(cls, query, sources, name=None):
        t = cls(None, name, _query=query, _sources=sources)
        t._schema = t._fetch_schema()
        return t

    def _source(self):
        """A FROM fragment for this table and the named handles it needs."""
        alias = "_t" + str(next(_ids))
        if self._handle is not None:
            return quote(alias), {alias: self._handle}
        return "(" + self._query + ") AS " + quote(alias), dict(self._sources)

    def _fetch_schema(self):
        if self._handle is not None:
            cols = self._handle.schema()
        else:
            probe = _call(compute.sql, "SELECT * FROM (" + self._query + ") LIMIT 0", list(self._sources.items()))
            cols = probe.schema()
        return [Column(c.name, c.data_type, c.nullable) for c in cols]

    def _materialize(self):
        if self._handle is None:
            self._handle = _call(compute.sql, self._query, list(self._sources.items()))
            self._query = None
            self._sources = {}
        return self._handle

    def _select(self, fragments):
        src, sources = self._source()
        return Table._lazy("SELECT " + ", ".join(fragments) + " FROM " + src, sources, self._name)

    def _check(self, names):
        known = self.columns
        for n in names:
            if n not in known:
                raise TableError("no column named " + repr(n) + "; columns: " + ", ".join(known))

    # ----------------------------------------------------------------- shape
    @property
    def schema(self):
        """The columns as ``Column(name, type, nullable)``, in order."""
        if self._schema is None:
            self._schema = self._fetch_schema()
        return list(self._schema)

    @property
    def columns(self):
        """The column names, in order."""
        return [c.name for c in self.schema]

    @property
    def num_rows(self):
        """The number of rows (runs pending operations)."""
        return self._materialize().num_rows()

    def __len__(self):
        return self.num_rows

    def __repr__(self):
        cols = ", ".join(c.name + ": " + c.type for c in self.schema)
        return "Table(" + cols + ")"

    # ----------------------------------------------------------------- operations
    def select(self, *names):
        """Only the named columns, in the order given."""
        names = _flatten(names)
        self._check(names)
        return self._select([quote(n) for n in names])

    def drop(self, *names):
        """All columns but the named ones."""
        names = _flatten(names)
        self._check(names)
        return self._select([quote(c) for c in self.columns if c not in names])

    def rename(self, mapping=None, **names):
        """Columns renamed: ``rename({"VendorID": "vendor_id"})`` or ``rename(a="b")``."""
        mapping = dict(mapping or {}, **names)
        self._check(mapping)
        return self._select([quote(c) + " AS " + quote(mapping.get(c, c)) for c in self.columns])

    def filter(self, condition):
        """Only the rows where ``condition`` (an expression or SQL text) is true."""
        cond = condition._sql if isinstance(condition, Expr) else str(condition)
        src, sources = self._source()
        return Table._lazy("SELECT * FROM " + src + " WHERE " + cond, sources, self._name)

    def with_column(self, name, value):
        """A column set to ``value`` (an expression or a constant), replaced in place if it exists."""
        sql = literal(value) + " AS " + quote(name)
        cols = self.columns
        if name in cols:
            return self._select([sql if c == name else quote(c) for c in cols])
        return self._select([quote(c) for c in cols] + [sql])

    def cast(self, mapping=None, **types_):
        """Columns converted: ``cast({"fare": "float"})`` or ``cast(day="date")``."""
        mapping = dict(mapping or {}, **types_)
        self._check(mapping)
        return self._select(
            [
                ("CAST(" + quote(c) + " AS " + sql_type(mapping[c]) + ") AS " + quote(c)) if c in mapping else quote(c)
                for c in self.columns
            ]
        )

    def sort(self, *names, descending=False):
        """Rows ordered by the named columns (``descending`` may be a bool or a list of bools)."""
        names = _flatten(names)
        self._check(names)
        desc = descending if isinstance(descending, (list, tuple)) else [descending] * len(names)
        order = ", ".join(quote(n) + (" DESC" if d else " ASC") for n, d in zip(names, desc))
        src, sources = self._source()
        return Table._lazy("SELECT * FROM " + src + " ORDER BY " + order, sources, self._name)

    def head(self, n=5):
        """The first ``n`` rows."""
        src, sources = self._source()
        return Table._lazy("SELECT * FROM " + src + " LIMIT " + str(int(n)), sources, self._name)

    def sql(self, query):
        """Run SQL where this table is ``self`` (and its block's name, for upstream outputs)."""
        src, sources = self._source()
        ctes = ['"self" AS (SELECT * FROM ' + src + ")"]
        if self._name and self._name != "self":
            ctes.append(quote(self._name) + ' AS (SELECT * FROM "self")')
        return Table._lazy("WITH " + ", ".join(ctes) + " " + query, sources, self._name)

    # ----------------------------------------------------------------- out
    def write(self, target, **options):
        """Write the table to ``target``; see ``weft.io.write``."""
        from ._io import write

        return write(self, target, **options)

    # ----------------------------------------------------------------- rows
    def to_pylist(self):
        """The rows as a list of dicts (dates and timestamps as ``datetime`` objects)."""
        rows = json.loads(_call(self._materialize().to_json, None))
        convert = {c.name: _converter(c.type) for c in self.schema}
        convert = {k: f for k, f in convert.items() if f is not None}
        if convert:
            for row in rows:
                for k, f in convert.items():
                    if row.get(k) is not None:
                        row[k] = f(row[k])
        return rows

    def to_pydict(self):
        """The columns as a dict of lists."""
        rows = self.to_pylist()
        return {c: [r.get(c) for r in rows] for c in self.columns}

    def column(self, name):
        """One column's values as a list."""
        self._check([name])
        return [r.get(name) for r in self.select(name).to_pylist()]

    @staticmethod
    def from_pylist(rows):
        """A table from a list of dicts; column types follow the values."""
        rows = list(rows)
        text = json.dumps(rows, default=_json_default)
        table = Table(_call(types.Table.from_json, text))
        temporal = {}
        for row in rows:
            for k, v in row.items():
                if isinstance(v, datetime.datetime):
                    temporal.setdefault(k, "timestamp")
                elif isinstance(v, datetime.date):
                    temporal.setdefault(k, "date")
        return table.cast(temporal) if temporal else table

    @staticmethod
    def from_pydict(columns):
        """A table from a dict of equally long lists."""
        names = list(columns)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise TableError("columns have different lengths: " + ", ".join(f"{k}={len(v)}" for k, v in columns.items()))
        return Table.from_pylist([dict(zip(names, values)) for values in zip(*columns.values())])


def _flatten(names):
    out = []
    for n in names:
        out.extend(n if isinstance(n, (list, tuple)) else [n])
    return out


def _converter(type_name):
    if type_name.startswith("Timestamp"):
        return lambda v: datetime.datetime.fromisoformat(v)
    if type_name.startswith("Date"):
        return lambda v: datetime.date.fromisoformat(v[:10])
    return None


def _json_default(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if hasattr(value, "__float__"):
        return float(value)
    raise TypeError("cannot put a " + type(value).__name__ + " in a table")
