"""pandas, for weft blocks: ``import pandas as pd`` in the sandbox.

DataFrame and Series have pandas' API over tables the host owns: every operation becomes SQL
for the host engine (DataFusion) and runs at native speed when rows, a count or the block's
output are needed; rows enter Python only when asked for (``to_dict``, ``iterrows``,
``tolist``) or for ``apply``/``map`` with a Python function (correct, slower, said once in the
block's log). What is not supported raises ``NotImplementedError`` naming the method and the
nearest way. Frames have no row labels beyond their order: ``loc`` takes masks and column
names, ``iloc`` positions; a grouped result's keys are its index until ``reset_index()``.
"""

import datetime as _dt

# Every module is imported here: a block's component holds only what was imported when it
# was built, and some of these are otherwise first imported inside functions.
from . import _accessors, _groupby, _reshape  # noqa: F401
from ._core import Index, NotSupported
from ._dtypes import (
    BooleanDtype, CategoricalDtype, Float32Dtype, Float64Dtype, Int8Dtype, Int16Dtype, Int32Dtype,
    Int64Dtype, StringDtype,
)
from ._frame import DataFrame
from ._io import read_csv, read_json, read_parquet
from ._reshape import concat, merge
from ._series import Series

__version__ = "3.1.1+weft"

NA = None
NaT = None


class NamedAgg(tuple):
    """``pd.NamedAgg(column, aggfunc)`` for ``groupby().agg(name=...)``."""

    def __new__(cls, column, aggfunc):
        t = super().__new__(cls, (column, aggfunc))
        t.column, t.aggfunc = column, aggfunc
        return t


class Timestamp(_dt.datetime):
    """A point in time; ``Timestamp("2021-01-01 10:00")``."""

    def __new__(cls, value=None, *args, **kwargs):
        if isinstance(value, str):
            d = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif isinstance(value, _dt.datetime):
            d = value
        elif isinstance(value, _dt.date):
            d = _dt.datetime(value.year, value.month, value.day)
        else:
            return super().__new__(cls, value, *args, **kwargs)
        return super().__new__(cls, d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, d.tzinfo)


def isna(value):
    """Whether a value (or each value of a Series) is missing."""
    if isinstance(value, (Series, DataFrame)):
        return value.isna()
    return value is None or (isinstance(value, float) and value != value)


isnull = isna


def notna(value):
    """Whether a value (or each value of a Series) is present."""
    if isinstance(value, (Series, DataFrame)):
        return value.notna()
    return not isna(value)


notnull = notna


def to_datetime(arg, format=None, errors="raise", **_kw):
    """Text as timestamps: a Series (in the host; ``format`` in strftime's codes) or one value."""
    if isinstance(arg, Series):
        if format:
            from weft._expr import literal

            return arg._with("to_timestamp(" + arg._sql + ", " + literal(format) + ")")
        return arg._with("CAST(" + arg._sql + " AS TIMESTAMP)")
    if format:
        return Timestamp(_dt.datetime.strptime(arg, format))
    return Timestamp(arg)


def to_numeric(arg, errors="raise", **_kw):
    """Text as numbers (a Series in the host)."""
    if isinstance(arg, Series):
        return arg._with("CAST(" + arg._sql + " AS DOUBLE)")
    return float(arg)


__all__ = [
    "BooleanDtype", "CategoricalDtype", "DataFrame", "Float32Dtype", "Float64Dtype", "Index",
    "Int16Dtype", "Int32Dtype", "Int64Dtype", "Int8Dtype", "NA", "NaT", "NamedAgg", "NotSupported",
    "Series", "StringDtype", "Timestamp", "concat", "isna", "isnull", "merge", "notna", "notnull",
    "read_csv", "read_json", "read_parquet", "to_datetime", "to_numeric",
]
