#!/usr/bin/env bash
# The nyc_taxi pipeline on a month of trips (1.4 M rows by default), measured against its
# baselines in the same invocation:
#   weft      `weft run nyc_taxi`: CSV.gz over loopback HTTP → clean → Postgres + partitioned parquet
#   pandas    the same work as a pandas + SQLAlchemy `to_sql` + pyarrow script (pandas_baseline.py)
#   \copy     psql's \copy of the same (decompressed, unfiltered) CSV: the limit of a Postgres load
# Prints wall time, peak memory and Postgres load rows/s, and the ratios; then reading the
# partitioned export back, weft (a Python block) against pandas.read_parquet.
#
#   bench/nyc_taxi/run.sh [ROWS]        (needs Postgres on 127.0.0.1:5432, trust auth)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1400000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
PG_ADMIN=${WEFT_BENCH_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=weft_bench
WORK=$(mktemp -d)
VENV=${WEFT_HOME:-$HOME/.weft}/bench-venv
trap 'kill $HTTP_PID 2>/dev/null || true; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

log() { echo "[bench] $*" >&2; }
scripts/setup.sh >/dev/null 2>&1
cargo build --release --workspace --quiet
WEFT="$CARGO_TARGET_DIR/release/weft"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pandas, sqlalchemy, pyarrow, psycopg2' 2>/dev/null; then
  log "installing the pandas baseline's packages into $VENV"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/nyc_taxi/requirements.txt
fi

log "generating $ROWS trips"
"$WEFT" generate taxi --rows "$ROWS" --out "$WORK/data/yellow_tripdata_2021-01.csv.gz" --json > "$WORK/counts.json"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$WORK/data" && exec python3 -m http.server --bind 127.0.0.1 "$PORT" >/dev/null 2>&1) & HTTP_PID=$!
URL="http://127.0.0.1:$PORT/yellow_tripdata_2021-01.csv.gz"
for _ in $(seq 100); do curl -sf -o /dev/null -I "$URL" && break; sleep 0.1; done
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null

# A project holding the seed pipeline (the repository's own files).
PROJ="$WORK/project"
mkdir -p "$PROJ/pipelines"
cp -r pipelines/nyc_taxi "$PROJ/pipelines/" && cp -r blocks "$PROJ/" && cp io_config.yaml weft.toml "$PROJ/"
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres POSTGRES_PASSWORD= POSTGRES_DBNAME=$DB
"$WEFT" --project "$PROJ" build >/dev/null 2>&1

timed() { # timed OUT CMD... → OUT.time holds /usr/bin/time -v
  local out=$1; shift
  /usr/bin/time -v -o "$out.time" "$@" > "$out" 2> "$out.err" || { cat "$out.err" >&2; exit 1; }
}
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1.time"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1.time"; }

log "weft (warm-up run, then the measured one)"
"$WEFT" --project "$PROJ" run nyc_taxi --var "source_url=$URL" >/dev/null 2>&1
timed "$WORK/weft" "$WEFT" --project "$PROJ" run nyc_taxi --var "source_url=$URL" --json
WEFT_PG_MS=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print([b for b in s["blocks"] if b["block"]=="export_to_postgres"][0]["duration_ms"])' "$WORK/weft")
CLEAN=$(psql "postgresql://postgres@127.0.0.1:5432/$DB" -Atc "SELECT count(*) FROM ny_taxi.yellow_cab_data")

log "reading the partitioned export back: weft (a Python block) and pandas.read_parquet"
EXPORT="$PROJ/.weft/local/exports/nyc_taxi/yellow_cab_data"
mkdir -p "$PROJ/pipelines/readback"
printf 'from weft import io, loader\n\n\n@loader\ndef back():\n    return io.read("local://exports/nyc_taxi/yellow_cab_data/")\n' > "$PROJ/blocks/readback.py"
printf 'blocks:\n  - { name: back, kind: loader, source: blocks/readback.py, grants: { urls: ["local://exports/"] } }\n' \
  > "$PROJ/pipelines/readback/pipeline.yaml"
"$WEFT" --project "$PROJ" run readback >/dev/null 2>&1
timed "$WORK/readback" "$WEFT" --project "$PROJ" run readback --json
timed "$WORK/pdread" "$VENV/bin/python" -c "import pandas as pd, sys; print(len(pd.read_parquet(sys.argv[1])))" "$EXPORT"

log "psql \\copy of the decompressed CSV"
gzip -dc "$WORK/data/yellow_tripdata_2021-01.csv.gz" > "$WORK/plain.csv"
PSQL=(psql "postgresql://postgres@127.0.0.1:5432/$DB" -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c "DROP TABLE IF EXISTS ny_taxi.copy_limit; CREATE TABLE ny_taxi.copy_limit (vendor_id bigint, tpep_pickup_datetime timestamp, tpep_dropoff_datetime timestamp, passenger_count bigint, trip_distance double precision, ratecode_id bigint, store_and_fwd_flag text, pu_location_id bigint, do_location_id bigint, payment_type bigint, fare_amount double precision, extra double precision, mta_tax double precision, tip_amount double precision, tolls_amount double precision, improvement_surcharge double precision, total_amount double precision, congestion_surcharge double precision)"
timed "$WORK/copy" "${PSQL[@]}" -c "\\copy ny_taxi.copy_limit FROM '$WORK/plain.csv' WITH (FORMAT csv, HEADER true)"

log "pandas + SQLAlchemy baseline"
timed "$WORK/pandas" "$VENV/bin/python" bench/nyc_taxi/pandas_baseline.py --url "$URL" \
  --pg "postgresql+psycopg2://postgres@127.0.0.1:5432/$DB" --parquet-dir "$WORK/pandas-parquet"

python3 - "$WORK" "$ROWS" "$CLEAN" "$WEFT_PG_MS" "$(wall "$WORK/weft")" "$(rss_mb "$WORK/weft")" \
  "$(wall "$WORK/copy")" "$(wall "$WORK/pandas")" "$(rss_mb "$WORK/pandas")" \
  "$(wall "$WORK/readback")" "$(wall "$WORK/pdread")" <<'PY'
import json, sys
work, rows, clean, pg_ms, weft_s, weft_mb, copy_s, pandas_s, pandas_mb, readback_s, pdread_s = sys.argv[1:]
readback_s, pdread_s = float(readback_s), float(pdread_s)
rows, clean = int(rows), int(clean)
pg_s, weft_s, copy_s, pandas_s = float(pg_ms) / 1000, float(weft_s), float(copy_s), float(pandas_s)
p = json.loads(open(work + "/pandas").read().strip().splitlines()[-1])
weft_rate, copy_rate = clean / pg_s, rows / copy_s
print(f"nyc_taxi on {rows:,} trips ({clean:,} kept): CSV.gz over loopback HTTP → Postgres + partitioned parquet")
print(f"{'':28}{'wall':>10}{'peak RSS':>12}")
print(f"{'weft run nyc_taxi':28}{weft_s:>9.2f}s{weft_mb:>9} MB")
print(f"{'pandas + to_sql + pyarrow':28}{pandas_s:>9.2f}s{pandas_mb:>9} MB")
print(f"whole pipeline: weft is {pandas_s / weft_s:.1f}x faster than pandas (target >= 10x)")
print(f"Postgres load: weft {weft_rate:,.0f} rows/s ({pg_s:.2f}s), psql \\copy {copy_rate:,.0f} rows/s ({copy_s:.2f}s), "
      f"pandas to_sql {p['rows_out'] / p['postgres_seconds']:,.0f} rows/s")
print(f"weft's load takes {copy_rate / weft_rate:.2f}x the time of \\copy per row (target <= 1.5x)")
rb = json.loads(open(work + "/readback").read())
rb_rows = rb["blocks"][0]["rows"]
print(f"read back {rb_rows:,} rows from the partitioned export: weft run {readback_s:.2f}s "
      f"(the block {rb['blocks'][0]['duration_ms'] / 1000:.2f}s), pandas.read_parquet {pdread_s:.2f}s (both whole processes)")
PY
