"""Write weft pipeline blocks in Python.

A block is a module with one decorated function and any number of ``@test`` functions::

    from weft import transformer, test, col

    @transformer
    def clean(trips, **kwargs):
        return (trips.filter((col("passenger_count") > 0) & (col("trip_distance") > 0))
                     .with_column("pickup_date", col("tpep_pickup_datetime").cast("date")))

    @test
    def no_empty_trips(output):
        assert output.num_rows > 0, "no trips left"

Table operations (select, filter, with_column, sql, ...) run in weft's host engine at native
speed; rows enter Python only when asked for (``to_pylist``, ``to_pydict``, ``column``).
Native-extension packages (pandas, numpy, pyarrow) cannot run inside the Wasm sandbox: the
Table API replaces them.

``weft.io`` reads and writes data natively in the host (``io.read(url, dtype=...)``,
``io.write(table, "postgres://default/schema.table")``), within the block's grants.
"""

from ._blocks import (
    callback,
    condition,
    context,
    data_exporter,
    data_loader,
    dynamic,
    exporter,
    loader,
    sensor,
    test,
    transformer,
)
from . import _io as io
from ._expr import Expr, col, lit
from ._table import Column, Table, TableError

__all__ = [
    "Column",
    "Expr",
    "Table",
    "TableError",
    "callback",
    "col",
    "condition",
    "context",
    "data_exporter",
    "data_loader",
    "dynamic",
    "exporter",
    "io",
    "lit",
    "loader",
    "sensor",
    "test",
    "transformer",
]
