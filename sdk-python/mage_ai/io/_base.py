"""What Mage's IO classes share: a profile, ``with_config``, and the context manager."""

from weft import io as _io

from mage_ai._glue import to_frame, to_table


class Base:
    """An IO client bound to one io_config.yaml profile."""

    def __init__(self, profile="default", **settings):
        if settings:
            raise ValueError(
                type(self).__name__ + "(" + ", ".join(sorted(settings)) + "=...): in weft, connection "
                "settings live in io_config.yaml, which the host reads; use "
                + type(self).__name__ + ".with_config(ConfigFileLoader(path, 'profile'))"
            )
        self.profile = profile

    @classmethod
    def with_config(cls, config, **_kwargs):
        """A client for the profile ``config`` (a ``ConfigFileLoader``) names."""
        return cls(getattr(config, "profile", "default"))

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def open(self):
        return self

    def close(self):
        return None

    def _write(self, df, target, if_exists="replace", **options):
        return _io.write(to_table(df), target, if_exists=if_exists, profile=self.profile, **options)

    def _read(self, uri, **options):
        return to_frame(_io.read(uri, profile=self.profile, **options))


def format_of(key, given):
    """The file format of ``key`` (``given`` wins): parquet, csv, json, ..."""
    if given:
        return str(getattr(given, "value", given)).lower()
    name = key.lower()
    for ext, fmt in ((".parquet", "parquet"), (".csv.gz", "csv.gz"), (".csv", "csv"), (".json", "ndjson"), (".ndjson", "ndjson"), (".arrow", "arrow")):
        if name.endswith(ext):
            return fmt
    return None
