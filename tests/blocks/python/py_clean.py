"""Transformer: the taxi clean-up, in the host engine."""
import logging

from weft import col, test, transformer

log = logging.getLogger("clean")


def snake(name):
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0 and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "_"
        out += ch.lower()
    return out


@transformer
def clean(trips, **kwargs):
    kept = trips.filter((col("passenger_count") > 0) & (col("trip_distance") > 0))
    kept = kept.with_column("tpep_pickup_date", col("tpep_pickup_datetime").cast("date"))
    kept = kept.rename({c: snake(c) for c in kept.columns})
    log.info("kept %d of %d trips", kept.num_rows, trips.num_rows)
    return kept


@test
def positive_passengers(output):
    assert all(p > 0 for p in output.column("passenger_count")), "a trip without passengers survived"


@test
def snake_case_columns(output):
    assert "vendor_id" in output.columns and "pu_location_id" in output.columns, output.columns
