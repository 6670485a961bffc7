"""Conversions between Mage's values and weft's: data frames, tables, run variables."""

import datetime
import json

# Imported here, at the top, so that every Mage block's component holds weft's pandas: Mage
# hands blocks DataFrames whether or not their file imports pandas.
import pandas
from weft import _blocks
from weft._table import Table


def to_frame(table):
    """What a Mage block receives for a weft table: a pandas DataFrame."""
    return pandas.DataFrame._from_table(table)


def to_table(value):
    """A weft table for what a Mage block returned or exports."""
    if value is None or isinstance(value, Table):
        return value
    as_table = getattr(value, "_to_table", None)
    if as_table is not None:
        return as_table()
    if isinstance(value, list):
        return Table.from_pylist(value)
    if isinstance(value, dict):
        return Table.from_pydict(value)
    raise TypeError("expected a DataFrame, a list of dicts or a dict of lists, not " + type(value).__name__)


def mage_kwargs():
    """The keyword arguments Mage gives a block: run variables, `execution_date` as a
    datetime, and Mage's names for the pipeline and block."""
    kwargs = dict(_blocks.context.variables())
    mage = _blocks.context.config.get("mage", {})
    for name in mage.get("typed", []):
        # Numbers, booleans and lists of Mage's variables travel as text: decoded again here.
        if isinstance(kwargs.get(name), str):
            try:
                kwargs[name] = json.loads(kwargs[name])
            except ValueError:
                pass
    raw = kwargs.get("execution_date")
    if raw:
        try:
            kwargs["execution_date"] = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    if "pipeline" in kwargs:
        kwargs.setdefault("pipeline_uuid", kwargs["pipeline"])
    if "block" in kwargs:
        kwargs.setdefault("block_uuid", kwargs["block"])
    kwargs.setdefault("configuration", {k: v for k, v in _blocks.context.config.items() if k != "mage"})
    return kwargs
