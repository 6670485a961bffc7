"""Mage's ``FileIO`` over weft's host: paths are read and written as ``file://`` URLs, within
the block's grants (the sandbox itself has no files)."""

from weft import io as _io

from mage_ai._glue import to_frame, to_table
from mage_ai.io._base import format_of


class FileIO:
    """Files under the project, through the host."""

    def __init__(self, *_args, **_kwargs):
        pass

    @classmethod
    def with_config(cls, *_args, **_kwargs):
        return cls()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    @staticmethod
    def _url(filepath):
        path = str(filepath)
        if "://" in path:
            return path
        return "file://" + (path[2:] if path.startswith("./") else path)

    def load(self, filepath, format=None, **_kwargs):
        """A file as a DataFrame."""
        fmt = format_of(str(filepath), format)
        return to_frame(_io.read(self._url(filepath), **({"format": fmt} if fmt else {})))

    def export(self, df, filepath, format=None, **_kwargs):
        """Write ``df`` to a file."""
        fmt = format_of(str(filepath), format)
        return _io.write(to_table(df), self._url(filepath), **({"format": fmt} if fmt else {}))
