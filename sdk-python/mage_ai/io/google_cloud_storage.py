"""Mage's ``GoogleCloudStorage`` over weft's host (``gs://bucket/key``)."""

from mage_ai.io._base import Base, format_of


class GoogleCloudStorage(Base):
    """Objects in GCS through an io_config.yaml profile."""

    scheme = "gs://"

    def export(self, df, bucket_name, object_key, format=None, **_kwargs):
        """Write ``df`` as one object (its format from ``format`` or the key's extension)."""
        fmt = format_of(object_key, format)
        options = {"format": fmt} if fmt else {}
        return self._write(df, self.scheme + bucket_name + "/" + object_key.lstrip("/"), **options)

    def load(self, bucket_name, object_key, format=None, **_kwargs):
        """An object (or a prefix ending in ``/``) as a DataFrame."""
        fmt = format_of(object_key, format)
        options = {"format": fmt} if fmt else {}
        return self._read(self.scheme + bucket_name + "/" + object_key.lstrip("/"), **options)
