#!/usr/bin/env python3
"""DuckDB version of the Mage / DataTalksClub "NYC taxi" pipeline.

load (the gzip CSV over HTTP, read by DuckDB's read_csv with the tutorial's column types)
-> transform (filter, add tpep_pickup_date, snake_case, as a view) -> export to Postgres
ny_taxi.yellow_cab_data (DuckDB writes a CSV, psycopg2 COPYs it in; one transaction that
replaces the table) and to a Hive-partitioned parquet dataset (COPY ... PARTITION_BY).

DuckDB reads HTTP only through its httpfs extension, which is downloaded on first use and not
bundled in the wheel, so the script streams the file to a temporary folder first (counted in
load_seconds). The postgres extension is not used for the same reason.

Prints one JSON line at the end:
{"rows_in", "rows_out", "seconds", "load_seconds", "transform_seconds", "postgres_seconds",
 "parquet_seconds"}
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

import duckdb
import psycopg2

# The tutorial's pandas dtypes as DuckDB types (Int64 -> BIGINT, float -> DOUBLE, str ->
# VARCHAR) and its parse_dates as TIMESTAMP, in the file's column order.
COLUMNS = {
    "VendorID": "BIGINT",
    "tpep_pickup_datetime": "TIMESTAMP",
    "tpep_dropoff_datetime": "TIMESTAMP",
    "passenger_count": "BIGINT",
    "trip_distance": "DOUBLE",
    "RatecodeID": "BIGINT",
    "store_and_fwd_flag": "VARCHAR",
    "PULocationID": "BIGINT",
    "DOLocationID": "BIGINT",
    "payment_type": "BIGINT",
    "fare_amount": "DOUBLE",
    "extra": "DOUBLE",
    "mta_tax": "DOUBLE",
    "tip_amount": "DOUBLE",
    "tolls_amount": "DOUBLE",
    "improvement_surcharge": "DOUBLE",
    "total_amount": "DOUBLE",
    "congestion_surcharge": "DOUBLE",
}
RENAME = {
    "VendorID": "vendor_id",
    "RatecodeID": "ratecode_id",
    "PULocationID": "pu_location_id",
    "DOLocationID": "do_location_id",
}
PG_TYPES = {
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}
SCHEMA = "ny_taxi"
TABLE = "yellow_cab_data"


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load(con: duckdb.DuckDBPyConnection, url: str, tmp: str) -> int:
    path = url
    if url.startswith(("http://", "https://")):
        path = os.path.join(tmp, "trips.csv.gz")
        with urllib.request.urlopen(url) as r, open(path, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    columns = "{" + ", ".join(f"{sql_str(c)}: {sql_str(t)}" for c, t in COLUMNS.items()) + "}"
    con.execute(
        f"CREATE TABLE raw AS SELECT * FROM read_csv({sql_str(path)}, header = true, "
        f"delim = ',', compression = 'gzip', columns = {columns})"
    )
    return con.execute("SELECT count(*) FROM raw").fetchone()[0]


def transform(con: duckdb.DuckDBPyConnection) -> int:
    # A view: both exports read the one materialized copy of the trips.
    renames = ", ".join(f'"{a}" AS {b}' for a, b in RENAME.items())
    con.execute(
        f"CREATE VIEW clean AS SELECT * RENAME ({renames}), "
        "CAST(tpep_pickup_datetime AS DATE) AS tpep_pickup_date "
        "FROM raw WHERE passenger_count > 0 AND trip_distance > 0"
    )
    return con.execute("SELECT count(*) FROM clean").fetchone()[0]


def export_postgres(con: duckdb.DuckDBPyConnection, dsn: str, tmp: str) -> None:
    csv = os.path.join(tmp, "clean.csv")
    con.execute(f"COPY (SELECT * FROM clean) TO {sql_str(csv)} (FORMAT csv, HEADER true)")
    # DESCRIBE rows: (column_name, column_type, ...)
    cols = ", ".join(f"{row[0]} {PG_TYPES[row[1]]}" for row in con.execute("DESCRIBE clean").fetchall())
    with psycopg2.connect(dsn) as pg, pg.cursor() as cur, open(csv, "rb") as f:  # one transaction
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{TABLE}")
        cur.execute(f"CREATE TABLE {SCHEMA}.{TABLE} ({cols})")
        cur.copy_expert(f"COPY {SCHEMA}.{TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)", f, 1 << 20)
    pg.close()
    os.remove(csv)


def export_parquet(con: duckdb.DuckDBPyConnection, root: str) -> None:
    con.execute(
        f"COPY (SELECT * FROM clean) TO {sql_str(root)} "
        "(FORMAT parquet, PARTITION_BY (tpep_pickup_date), OVERWRITE_OR_IGNORE true)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="DuckDB NYC taxi baseline")
    ap.add_argument("--url", required=True, help="HTTP(S) URL (or path) of the trip csv.gz")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/weft_bench",
                    help="libpq URL of the target database")
    ap.add_argument("--parquet-dir", required=True, help="root folder of the partitioned parquet output")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="duckdb-taxi-") as tmp:
        con = duckdb.connect()  # in memory; spills to a temp folder only if it must
        t0 = time.perf_counter()
        rows_in = load(con, a.url, tmp)
        t1 = time.perf_counter()
        rows_out = transform(con)
        t2 = time.perf_counter()
        export_postgres(con, a.pg, tmp)
        t3 = time.perf_counter()
        export_parquet(con, a.parquet_dir)
        t4 = time.perf_counter()
        con.close()

    print(json.dumps({
        "rows_in": rows_in,
        "rows_out": rows_out,
        "seconds": round(t4 - t0, 3),
        "load_seconds": round(t1 - t0, 3),
        "transform_seconds": round(t2 - t1, 3),
        "postgres_seconds": round(t3 - t2, 3),
        "parquet_seconds": round(t4 - t3, 3),
    }))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
