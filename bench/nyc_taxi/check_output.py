#!/usr/bin/env python3
"""Check one tool's output of the nyc_taxi bench: the Postgres table and the partitioned parquet.

    check_output.py --tool NAME --pg DSN --parquet-dir DIR --rows KEPT [--partitions N]

Passes when the table holds KEPT rows, the parquet folder holds KEPT rows in one
`tpep_pickup_date=YYYY-MM-DD` folder per distinct pickup date of the table (hidden and `_`
entries are skipped), and (when given) that is N partitions. Prints the number of partitions
on stdout; on a mismatch, says what differs on stderr and exits 1.
"""
import argparse
import os
import re
import sys

import psycopg2
import pyarrow.dataset as ds

PARTITION = re.compile(r"^tpep_pickup_date=\d{4}-\d{2}-\d{2}$")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--pg", required=True, help="libpq URL of the bench database")
    ap.add_argument("--table", default="ny_taxi.yellow_cab_data")
    ap.add_argument("--parquet-dir", required=True)
    ap.add_argument("--rows", type=int, required=True, help="rows the filter must keep")
    ap.add_argument("--partitions", type=int, help="partitions expected (another tool's count)")
    a = ap.parse_args()

    try:
        with psycopg2.connect(a.pg) as pg, pg.cursor() as cur:
            cur.execute(f"SELECT count(*), count(DISTINCT tpep_pickup_date) FROM {a.table}")
            pg_rows, pg_dates = cur.fetchone()
        pg.close()
    except psycopg2.Error as e:
        print(f"[check] {a.tool}: reading {a.table}: {e}".rstrip(), file=sys.stderr)
        return 1
    if not os.path.isdir(a.parquet_dir):
        print(f"[check] {a.tool}: no parquet folder at {a.parquet_dir}", file=sys.stderr)
        return 1
    # Like pyarrow's datasets, skip hidden and bookkeeping entries (`.x`, `_SUCCESS`, weft's
    # `_weft_written.json`).
    parts = sorted(p for p in os.listdir(a.parquet_dir) if not p.startswith((".", "_")))
    bad_names = [p for p in parts if not PARTITION.match(p)]
    pq_rows = ds.dataset(a.parquet_dir, format="parquet", partitioning="hive").count_rows()

    errors = []
    if pg_rows != a.rows:
        errors.append(f"Postgres {a.table} holds {pg_rows} rows, expected {a.rows}")
    if pq_rows != a.rows:
        errors.append(f"the parquet folder holds {pq_rows} rows, expected {a.rows}")
    if bad_names:
        errors.append(f"entries in the parquet folder that are no tpep_pickup_date=... partition: {bad_names[:5]}")
    if len(parts) != pg_dates:
        errors.append(f"{len(parts)} partitions, but the table has {pg_dates} distinct pickup dates")
    if a.partitions is not None and len(parts) != a.partitions:
        errors.append(f"{len(parts)} partitions, expected {a.partitions}")
    for e in errors:
        print(f"[check] {a.tool}: {e}", file=sys.stderr)
    print(len(parts))
    return 1 if errors else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip pyarrow's thread-pool teardown (see pandas_baseline.py)
