#!/usr/bin/env bash
# demo.sh — set up and run the seed pipeline, pipelines/nyc_taxi, on embedded defaults:
# a generated month of NYC yellow-taxi trips (1.4 M rows) is read, cleaned, summarised per day
# and written as parquet partitioned by pickup date to .weft/local/exports/. The Postgres,
# GCS and BigQuery streams run when io_config.yaml's profiles are configured (POSTGRES_*,
# GCS_*, BIGQUERY_* in the environment) and are skipped with a notice otherwise.
#
#   scripts/demo.sh [extra `weft run` arguments, e.g. --var source_url=https://…]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/ui.sh --no-test
cargo build --release --workspace --bin weft
WEFT="${CARGO_TARGET_DIR:-target}/release/weft"
DATA=data/yellow_tripdata_2021-01.csv.gz
[ -f "$DATA" ] || "$WEFT" generate taxi --rows 1400000 --month 2021-01 --out "$DATA"
exec "$WEFT" run nyc_taxi --var "source_url=file://$DATA" "$@"
