"""Keep real trips (passengers and distance), add the pickup date, snake_case the columns."""
import re

from weft import col, test, transformer

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name):
    """VendorID -> vendor_id, PULocationID -> pu_location_id, trip_distance unchanged."""
    return _BOUNDARY.sub("_", name).lower()


@transformer
def transform_taxi_data(trips, **kwargs):
    kept = trips.filter((col("passenger_count") > 0) & (col("trip_distance") > 0))
    kept = kept.with_column("tpep_pickup_date", col("tpep_pickup_datetime").cast("date"))
    return kept.rename({c: snake_case(c) for c in kept.columns})


@test
def only_real_trips(output):
    bad = output.filter((col("passenger_count") <= 0) | (col("trip_distance") <= 0)).num_rows
    assert bad == 0, f"{bad} trips without passengers or distance"


@test
def columns_are_snake_case(output):
    assert "vendor_id" in output.columns and "pu_location_id" in output.columns, output.columns
    assert all(c == c.lower() for c in output.columns), output.columns


@test
def pickup_date_is_a_date(output):
    types = {c.name: c.type for c in output.schema}
    assert types["tpep_pickup_date"] == "Date32", types["tpep_pickup_date"]
