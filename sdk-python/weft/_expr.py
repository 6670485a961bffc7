"""Column expressions, compiled to SQL for the host engine."""

import datetime
import decimal

_TYPES = {
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "int": "BIGINT",
    "int64": "BIGINT",
    "long": "BIGINT",
    "int32": "INT",
    "int16": "SMALLINT",
    "int8": "TINYINT",
    "float": "DOUBLE",
    "float64": "DOUBLE",
    "double": "DOUBLE",
    "float32": "FLOAT",
    "str": "VARCHAR",
    "string": "VARCHAR",
    "utf8": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "timestamp": "TIMESTAMP",
    "datetime64[ns]": "TIMESTAMP",
}


def sql_type(name):
    """The SQL type for a type name such as ``"date"``, ``"int64"`` or ``"float"``."""
    return _TYPES.get(str(name).lower(), str(name))


def quote(name):
    """A column or table name as a quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value):
    """A Python value as a SQL literal."""
    if isinstance(value, Expr):
        return value._sql
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, decimal.Decimal)):
        return repr(value) if not isinstance(value, decimal.Decimal) else str(value)
    if isinstance(value, datetime.datetime):
        return "TIMESTAMP '" + value.isoformat(sep=" ") + "'"
    if isinstance(value, datetime.date):
        return "DATE '" + value.isoformat() + "'"
    return "'" + str(value).replace("'", "''") + "'"


class Expr:
    """An expression over a table's columns: ``col("a") > 0``, ``(col("a") + 1) * 2`` ..."""

    __hash__ = None

    def __init__(self, sql):
        self._sql = sql

    def __repr__(self):
        return "Expr(" + self._sql + ")"

    def _bin(self, op, other):
        return Expr("(" + self._sql + " " + op + " " + literal(other) + ")")

    def _rbin(self, op, other):
        return Expr("(" + literal(other) + " " + op + " " + self._sql + ")")

    def __gt__(self, o):
        return self._bin(">", o)

    def __ge__(self, o):
        return self._bin(">=", o)

    def __lt__(self, o):
        return self._bin("<", o)

    def __le__(self, o):
        return self._bin("<=", o)

    def __eq__(self, o):
        return self._bin("=", o)

    def __ne__(self, o):
        return self._bin("<>", o)

    def __and__(self, o):
        return self._bin("AND", o)

    def __or__(self, o):
        return self._bin("OR", o)

    def __rand__(self, o):
        return self._rbin("AND", o)

    def __ror__(self, o):
        return self._rbin("OR", o)

    def __invert__(self):
        return Expr("(NOT " + self._sql + ")")

    def __add__(self, o):
        return self._bin("+", o)

    def __radd__(self, o):
        return self._rbin("+", o)

    def __sub__(self, o):
        return self._bin("-", o)

    def __rsub__(self, o):
        return self._rbin("-", o)

    def __mul__(self, o):
        return self._bin("*", o)

    def __rmul__(self, o):
        return self._rbin("*", o)

    def __truediv__(self, o):
        return Expr("(CAST(" + self._sql + " AS DOUBLE) / " + literal(o) + ")")

    def __rtruediv__(self, o):
        return Expr("(CAST(" + literal(o) + " AS DOUBLE) / " + self._sql + ")")

    def __mod__(self, o):
        return self._bin("%", o)

    def __neg__(self):
        return Expr("(- " + self._sql + ")")

    def __bool__(self):
        raise TypeError(
            "an expression has no truth value; combine conditions with & and |, not `and`/`or`"
        )

    def is_null(self):
        """True where the value is null."""
        return Expr("(" + self._sql + " IS NULL)")

    def is_not_null(self):
        """True where the value is not null."""
        return Expr("(" + self._sql + " IS NOT NULL)")

    def isin(self, values):
        """True where the value is one of ``values``."""
        return Expr("(" + self._sql + " IN (" + ", ".join(literal(v) for v in values) + "))")

    def cast(self, type_name):
        """The value converted to ``type_name``: "date", "int64", "float", "str", "timestamp"..."""
        return Expr("CAST(" + self._sql + " AS " + sql_type(type_name) + ")")

    def fill_null(self, value):
        """The value, or ``value`` where it is null."""
        return Expr("COALESCE(" + self._sql + ", " + literal(value) + ")")


def col(name):
    """The column called ``name``."""
    return Expr(quote(name))


def lit(value):
    """A constant value."""
    return Expr(literal(value))
