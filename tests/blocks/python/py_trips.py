"""Loader: a few taxi-like trips, built from Python rows."""
import datetime

from weft import loader, test


@loader
def trips(config):
    n = config.get("rows", 6)
    start = datetime.datetime(2021, 1, 1, 0, 15)
    rows = []
    for i in range(n):
        rows.append(
            {
                "VendorID": 1 + i % 2,
                "tpep_pickup_datetime": start + datetime.timedelta(hours=7 * i),
                "passenger_count": i % 3,
                "trip_distance": float(i) * 1.5,
                "PULocationID": 100 + i,
                "store_and_fwd_flag": None if i == 2 else "N",
            }
        )
    print("generated", len(rows), "trips")
    return rows


@test
def six_or_more(output):
    assert output.num_rows >= 6, "expected at least six trips"
