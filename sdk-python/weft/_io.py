"""Data in and out of the pipeline, done natively by the host within the block's grants.

    from weft import io

    trips = io.read("https://example.com/trips.csv.gz", dtype={"VendorID": "Int64"},
                    parse_dates=["tpep_pickup_datetime"])
    io.write(trips, "postgres://default/ny_taxi.trips", if_exists="replace")

Reads and writes never copy rows into Python: the table stays in the host.
"""

import json

from componentize_py_types import Err
from wit_world.imports import io as _host
from wit_world.imports import types


class IOFailure(OSError):
    """An external system (network, database, object store) failed."""


class Denied(PermissionError):
    """The block is not granted what it asked for; the message names the grant to add."""


class InvalidInput(ValueError):
    """A bad option, URI or value; the message names it."""


def _call(fn, *args):
    try:
        return fn(*args)
    except Err as e:
        v = e.value
        message = getattr(v, "value", str(v))
        if isinstance(v, types.Error_Denied):
            raise Denied(message) from None
        if isinstance(v, types.Error_Io):
            raise IOFailure(message) from None
        raise InvalidInput(message) from None


def _options(options):
    return json.dumps({k: v for k, v in options.items() if v is not None})


def read(uri, **options):
    """A table read from ``uri`` (``https://``, ``file://``, ``s3://``, ``gs://``, ``local://``).

    Options: ``format`` (csv, csv.gz, ndjson, parquet, arrow), ``dtype`` (column → type, as in
    pandas), ``parse_dates``, ``delimiter``, ``header``, ``on_bad_lines`` ("error" or "skip"),
    ``profile`` (an io_config.yaml profile with credentials). A folder (a URI ending in ``/``,
    a directory, an object prefix) reads every data file under it as one table, with Hive
    partition folders (``day=2021-01-01/``) as columns.
    """
    from ._table import Table

    return Table(_call(_host.read, uri, _options(options)))


def write(table, target, **options):
    """Write ``table`` to ``target`` and return a summary dict (``target``, ``rows``, ``files``).

    Targets: ``postgres://<profile>/<schema>.<table>``, ``bigquery://<profile>/<dataset>.<table>``,
    or a folder/file under ``file://``, ``local://``, ``s3://``, ``gs://``. Options: ``if_exists``
    ("replace", "append", "fail"), ``format``, ``partition_by``, ``profile``, ``source``.
    """
    from ._table import Table

    if not isinstance(table, Table):
        table = Table.from_pylist(table) if isinstance(table, list) else Table.from_pydict(table)
    handle = table._materialize()
    return json.loads(_call(_host.write, target, handle, _options(options)))


def query(profile, sql):
    """Rows of ``sql`` run in the database of io profile ``profile``, as a table."""
    from ._table import Table

    return Table(_call(_host.query, profile, sql))


def available(profile, service):
    """Whether io profile ``profile`` configures ``service`` (postgres, gcs, s3, bigquery,
    http) and, for Postgres, whether it answers."""
    return _call(_host.available, profile, service)


def setting(profile, key, default=None):
    """A setting of io profile ``profile`` that is not a secret (``GCS_BUCKET``...)."""
    value = _call(_host.setting, profile, key)
    return default if value is None else value
