"""The taxi clean-up as a Python block (benchmark): filter, date column, snake_case names."""
from weft import col, transformer


def snake(name):
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0 and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "_"
        out += ch.lower()
    return out


@transformer
def clean(trips):
    kept = trips.filter((col("passenger_count") > 0) & (col("trip_distance") > 0))
    kept = kept.with_column("tpep_pickup_date", col("tpep_pickup_datetime").cast("date"))
    return kept.rename({c: snake(c) for c in kept.columns})
