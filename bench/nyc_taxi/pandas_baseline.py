#!/usr/bin/env python3
"""Classic pandas + SQLAlchemy version of the Mage / DataTalksClub "NYC taxi" pipeline.

load (pd.read_csv of a gzip CSV over HTTP, tutorial dtypes) -> transform (filter,
add tpep_pickup_date, snake_case) -> export to Postgres ny_taxi.yellow_cab_data
(df.to_sql, if_exists="replace", chunksize=100000) and to a Hive-partitioned parquet
dataset (pyarrow.parquet.write_to_dataset, partition_cols=["tpep_pickup_date"]).

Prints one JSON line at the end:
{"rows_in", "rows_out", "seconds", "load_seconds", "postgres_seconds", "parquet_seconds"}
"""
import argparse
import json
import os
import sys
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import create_engine, text

TAXI_DTYPES = {
    "VendorID": pd.Int64Dtype(),
    "passenger_count": pd.Int64Dtype(),
    "trip_distance": float,
    "RatecodeID": pd.Int64Dtype(),
    "store_and_fwd_flag": str,
    "PULocationID": pd.Int64Dtype(),
    "DOLocationID": pd.Int64Dtype(),
    "payment_type": pd.Int64Dtype(),
    "fare_amount": float,
    "extra": float,
    "mta_tax": float,
    "tip_amount": float,
    "tolls_amount": float,
    "improvement_surcharge": float,
    "total_amount": float,
    "congestion_surcharge": float,
}
PARSE_DATES = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]
RENAME = {
    "VendorID": "vendor_id",
    "RatecodeID": "ratecode_id",
    "PULocationID": "pu_location_id",
    "DOLocationID": "do_location_id",
}
SCHEMA = "ny_taxi"
TABLE = "yellow_cab_data"


def load(url: str) -> pd.DataFrame:
    return pd.read_csv(url, sep=",", compression="gzip", dtype=TAXI_DTYPES, parse_dates=PARSE_DATES)


def transform(df: pd.DataFrame) -> pd.DataFrame:
    # Nullable Int64 comparisons give <NA> for empty passenger_count; boolean indexing treats it as False.
    df = df[(df["passenger_count"] > 0) & (df["trip_distance"] > 0)].copy()
    df["tpep_pickup_date"] = df["tpep_pickup_datetime"].dt.date
    return df.rename(columns=RENAME)


def export_postgres(df: pd.DataFrame, pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        df.to_sql(TABLE, engine, schema=SCHEMA, if_exists="replace", index=False, chunksize=100_000)
    finally:
        engine.dispose()


def export_parquet(df: pd.DataFrame, root: str) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_to_dataset(
        table,
        root_path=root,
        partition_cols=["tpep_pickup_date"],
        existing_data_behavior="delete_matching",  # rerun replaces partitions instead of adding files
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="pandas + SQLAlchemy NYC taxi baseline")
    ap.add_argument("--url", required=True, help="HTTP(S) URL (or path) of the trip csv.gz")
    ap.add_argument("--pg", default="postgresql+psycopg2://postgres@127.0.0.1:5432/weft_bench",
                    help="SQLAlchemy URL of the target database")
    ap.add_argument("--parquet-dir", required=True, help="root folder of the partitioned parquet output")
    a = ap.parse_args()

    t0 = time.perf_counter()
    df = load(a.url)
    t1 = time.perf_counter()
    rows_in = len(df)
    df = transform(df)
    rows_out = len(df)
    t2 = time.perf_counter()
    export_postgres(df, a.pg)
    t3 = time.perf_counter()
    export_parquet(df, a.parquet_dir)
    t4 = time.perf_counter()

    print(json.dumps({
        "rows_in": rows_in,
        "rows_out": rows_out,
        "seconds": round(t4 - t0, 3),
        "load_seconds": round(t1 - t0, 3),
        "postgres_seconds": round(t3 - t2, 3),
        "parquet_seconds": round(t4 - t3, 3),
    }))


if __name__ == "__main__":
    main()
    # pyarrow's thread pool aborts the interpreter at shutdown on this setup
    # ("terminate called without an active exception") after all work is done; leave
    # without running the interpreter's teardown so the exit code reflects the work.
    sys.stdout.flush()
    os._exit(0)
