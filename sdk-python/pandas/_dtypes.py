"""pandas' dtype objects and names, mapped to the host engine's SQL types and back."""


class _Dtype:
    """A pandas dtype: compares equal to its name (``df.dtypes["a"] == "Int64"``)."""

    name = "object"
    sql = None

    def __eq__(self, other):
        return str(other) == self.name or (isinstance(other, type) and _PY.get(other) == self.name)

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.name

    __repr__ = __str__

    @property
    def kind(self):
        return _KIND.get(self.name, "O")


def _dtype(name, sql):
    return type(name.replace("[", "_").replace("]", "") + "Dtype", (_Dtype,), {"name": name, "sql": sql})


Int64Dtype = _dtype("Int64", "BIGINT")
Int32Dtype = _dtype("Int32", "INT")
Int16Dtype = _dtype("Int16", "SMALLINT")
Int8Dtype = _dtype("Int8", "TINYINT")
Float64Dtype = _dtype("Float64", "DOUBLE")
Float32Dtype = _dtype("Float32", "FLOAT")
BooleanDtype = _dtype("boolean", "BOOLEAN")
StringDtype = _dtype("string", "VARCHAR")


class CategoricalDtype(_Dtype):
    """Kept as text: the host engine has no categories."""

    name = "category"
    sql = "VARCHAR"

    def __init__(self, categories=None, ordered=False):
        self.categories = categories


_PY = {int: "int64", float: "float64", str: "str", bool: "bool", object: "object"}
_KIND = {
    "int64": "i", "int32": "i", "int16": "i", "int8": "i", "Int64": "i", "Int32": "i",
    "Int16": "i", "Int8": "i", "float64": "f", "float32": "f", "Float64": "f", "Float32": "f",
    "bool": "b", "boolean": "b", "str": "O", "string": "O", "object": "O", "category": "O",
    "datetime64[ns]": "M", "datetime64[us]": "M", "datetime64[ms]": "M", "datetime64[s]": "M",
}
_SQL = {
    "int": "BIGINT", "int64": "BIGINT", "Int64": "BIGINT", "int32": "INT", "Int32": "INT",
    "int16": "SMALLINT", "Int16": "SMALLINT", "int8": "TINYINT", "Int8": "TINYINT",
    "float": "DOUBLE", "float64": "DOUBLE", "Float64": "DOUBLE", "float32": "FLOAT",
    "Float32": "FLOAT", "double": "DOUBLE", "bool": "BOOLEAN", "boolean": "BOOLEAN",
    "str": "VARCHAR", "string": "VARCHAR", "object": "VARCHAR", "category": "VARCHAR",
    "datetime64": "TIMESTAMP", "datetime64[ns]": "TIMESTAMP", "datetime64[us]": "TIMESTAMP",
    "datetime64[ms]": "TIMESTAMP", "datetime64[s]": "TIMESTAMP", "date": "DATE",
}
# Type names weft's readers take for ``dtype=``.
_READ = {"BIGINT": "Int64", "INT": "Int32", "SMALLINT": "Int16", "TINYINT": "Int8", "DOUBLE": "float64",
         "FLOAT": "float32", "BOOLEAN": "bool", "VARCHAR": "str", "TIMESTAMP": "datetime64[ns]", "DATE": "date"}


def sql_type(dtype):
    """The SQL type for a pandas dtype given as an object, a Python type or a name."""
    if isinstance(dtype, _Dtype) or (isinstance(dtype, type) and issubclass(dtype, _Dtype)):
        return dtype.sql
    if isinstance(dtype, type):
        dtype = _PY.get(dtype, dtype.__name__)
    name = str(dtype)
    if name.startswith("datetime64"):
        return "TIMESTAMP"
    if name not in _SQL:
        raise TypeError("dtype " + repr(name) + " is not supported by weft's pandas; use one of "
                        + ", ".join(sorted(_SQL)))
    return _SQL[name]


def read_type(dtype):
    """The name weft's readers take for a pandas dtype."""
    return _READ[sql_type(dtype)]


def from_arrow(type_name):
    """The pandas dtype name of an Arrow type as the host names it (``Int64``, ``Utf8``...)."""
    t = str(type_name)
    if t.startswith("Int") or t.startswith("UInt"):
        bits = "".join(ch for ch in t if ch.isdigit()) or "64"
        return "int" + bits
    if t.startswith("Float"):
        return "float" + ("".join(ch for ch in t if ch.isdigit()) or "64")
    if t.startswith("Decimal"):
        return "float64"
    if t == "Boolean":
        return "bool"
    if t in ("Utf8", "LargeUtf8", "Utf8View"):
        return "str"
    if t.startswith("Timestamp"):
        return "datetime64[ns]"
    return "object"


class Dtype(_Dtype):
    """A dtype named by a string (what ``df.dtypes`` holds)."""

    def __init__(self, name):
        self.name = name


def sql_of_arrow(type_name):
    """The SQL type of an Arrow type as the host names it (for typed nulls)."""
    return _SQL.get(from_arrow(type_name), "VARCHAR") if from_arrow(type_name) != "object" else (
        "DATE" if str(type_name).startswith("Date") else "VARCHAR")
