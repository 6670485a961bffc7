"""Load a month of NYC yellow-taxi trips (the TLC's CSV, gzip) from `source_url`."""
from weft import io, loader, test

# The column types of the Mage tutorial (pandas dtypes) and its parse_dates.
TAXI_DTYPES = {
    "VendorID": "Int64",
    "passenger_count": "Int64",
    "trip_distance": "float",
    "RatecodeID": "Int64",
    "store_and_fwd_flag": "str",
    "PULocationID": "Int64",
    "DOLocationID": "Int64",
    "payment_type": "Int64",
    "fare_amount": "float",
    "extra": "float",
    "mta_tax": "float",
    "tip_amount": "float",
    "tolls_amount": "float",
    "improvement_surcharge": "float",
    "total_amount": "float",
    "congestion_surcharge": "float",
}
PARSE_DATES = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]


@loader
def load_taxi_data(**kwargs):
    # Download and CSV decoding run natively in the host; the rows never enter Python.
    return io.read(kwargs["source_url"], dtype=TAXI_DTYPES, parse_dates=PARSE_DATES)


@test
def has_trips(output):
    assert output.num_rows > 0, "the file holds no trips"


@test
def has_the_tlc_columns(output):
    missing = [c for c in ["VendorID", *PARSE_DATES, *TAXI_DTYPES] if c not in output.columns]
    assert not missing, "columns missing: " + ", ".join(missing)
