"""Mage's ``BigQuery`` over weft's host: ``export`` loads a table."""

from mage_ai.io._base import Base


class BigQuery(Base):
    """BigQuery through an io_config.yaml profile."""

    def export(self, df, table_id=None, if_exists="replace", **_kwargs):
        """Load ``df`` into ``table_id`` (``project.dataset.table`` or ``dataset.table``)."""
        parts = str(table_id).split(".")
        if len(parts) < 2:
            raise ValueError("BigQuery.export needs table_id as dataset.table, not " + repr(table_id))
        return self._write(df, "bigquery://" + self.profile + "/" + ".".join(parts[-2:]), if_exists=str(if_exists))

    def load(self, *_args, **_kwargs):
        raise NotImplementedError(
            "BigQuery.load (a query run in BigQuery) is not available in weft; read the table's "
            "export from GCS with GoogleCloudStorage.load or pd.read_parquet('gs://...')"
        )
