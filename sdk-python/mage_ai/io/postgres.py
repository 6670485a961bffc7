"""Mage's ``Postgres`` over weft's host: ``export`` is a binary COPY in one transaction
(``replace`` swaps the table in), ``load`` streams a query's rows back as a DataFrame."""

from weft import io as _io

from mage_ai._glue import to_frame
from mage_ai.io._base import Base


class Postgres(Base):
    """A Postgres database of an io_config.yaml profile."""

    def export(self, df, schema_name=None, table_name=None, index=False, if_exists="replace", **_kwargs):
        """Write ``df`` to ``schema_name.table_name`` (``replace``, ``append`` or ``fail``)."""
        if table_name is None:
            raise ValueError("Postgres.export needs a table_name")
        name = table_name if schema_name is None else schema_name + "." + table_name
        return self._write(df, "postgres://" + self.profile + "/" + name, if_exists=str(if_exists))

    def load(self, query_string, limit=None, **_kwargs):
        """The rows of ``query_string`` as a DataFrame (read-only unless granted the database)."""
        sql = query_string if limit is None else "SELECT * FROM (" + query_string + ") AS q LIMIT " + str(int(limit))
        return to_frame(_io.query(self.profile, sql))

    def execute(self, query_string, **_kwargs):
        """Run a statement (it needs a grant covering the whole database)."""
        _io.query(self.profile, query_string)
