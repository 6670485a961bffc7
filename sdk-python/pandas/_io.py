"""``pd.read_csv`` / ``read_parquet`` / ``read_json`` through weft's host readers, within the
block's grants; ``dtype`` and ``parse_dates`` are applied while reading."""

from weft import io as _io

from ._core import listed, unsupported
from ._dtypes import read_type

_IGNORED = {"low_memory", "engine", "encoding", "memory_map", "float_precision", "storage_options", "dtype_backend"}


def _uri(path):
    path = str(path)
    return path if "://" in path else "file://" + (path[2:] if path.startswith("./") else path)


def _frame(table, usecols=None, nrows=None):
    from ._frame import DataFrame

    if usecols is not None:
        table = table.select(*listed(usecols))
    df = DataFrame._from_table(table)
    return df.head(nrows) if nrows is not None else df


def _check(kwargs, name):
    for k in kwargs:
        if k not in _IGNORED:
            raise unsupported(name + "(" + k + "=...)", "supported: sep, compression, dtype, parse_dates, usecols, header, nrows, on_bad_lines")


def read_csv(filepath_or_buffer, sep=",", delimiter=None, compression="infer", dtype=None,
             parse_dates=None, usecols=None, header="infer", nrows=None, on_bad_lines="error", **kwargs):
    """A CSV file (plain or gzip) as a DataFrame."""
    _check(kwargs, "read_csv")
    options = {"delimiter": delimiter or sep}
    uri = _uri(filepath_or_buffer)
    if compression == "gzip":
        options["format"] = "csv.gz"
    elif compression in (None, "infer"):
        if not uri.lower().endswith((".csv", ".gz", ".txt", ".tsv")):
            options["format"] = "csv"
    else:
        raise unsupported("read_csv(compression=" + repr(compression) + ")", "use gzip or none")
    if dtype is not None:
        if isinstance(dtype, dict):
            options["dtype"] = {c: read_type(t) for c, t in dtype.items()}
        else:
            raise unsupported("read_csv with one dtype for every column", "give a dict: {column: dtype}")
    if parse_dates:
        if parse_dates is True or not isinstance(parse_dates, (list, tuple)):
            raise unsupported("parse_dates=" + repr(parse_dates), "list the columns: parse_dates=['a', 'b']")
        options["parse_dates"] = list(parse_dates)
    if header is None:
        options["header"] = False
    if on_bad_lines != "error":
        options["on_bad_lines"] = on_bad_lines
    return _frame(_io.read(uri, **options), usecols, nrows)


def read_parquet(path, columns=None, **kwargs):
    """A parquet file or folder (Hive partitions become columns) as a DataFrame."""
    _check(kwargs, "read_parquet")
    uri = _uri(path)
    options = {} if uri.lower().endswith((".parquet", ".pq", "/")) else {"format": "parquet"}
    return _frame(_io.read(uri, **options), columns)


def read_json(path_or_buf, lines=False, orient=None, dtype=None, compression="infer", **kwargs):
    """Newline-delimited JSON (``lines=True``) as a DataFrame."""
    _check(kwargs, "read_json")
    if not lines:
        raise unsupported("read_json without lines=True", "read newline-delimited JSON: read_json(url, lines=True)")
    uri = _uri(path_or_buf)
    options = {"format": "ndjson.gz" if compression == "gzip" or uri.endswith(".gz") else "ndjson"}
    if isinstance(dtype, dict):
        options["dtype"] = {c: read_type(t) for c, t in dtype.items()}
    return _frame(_io.read(uri, **options))
