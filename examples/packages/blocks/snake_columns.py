"""Rename every column to snake_case: VendorID → vendor_id, PULocationID → pu_location_id,
"Pickup Date" → pickup_date. Columns named in `config.skip` keep their names."""
import re

from weft import context, test, transformer

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name):
    return re.sub(r"[\s\-]+", "_", _BOUNDARY.sub("_", name.strip())).lower()


@transformer
def snake_columns(table, config):
    skip = set(config.get("skip", []))
    return table.rename({c: snake_case(c) for c in table.columns if c not in skip})


@test
def names_are_snake_case(output):
    skip = set(context.config.get("skip", []))
    loud = [c for c in output.columns if c not in skip and c != c.lower()]
    assert not loud, "columns not in snake_case: " + ", ".join(loud)
