#!/usr/bin/env bash
# The nyc_taxi pipeline on a month of trips (1.4 M rows by default), measured against other
# tools doing the same work on the same generated file, in the same invocation:
#   weft      `weft run nyc_taxi`: CSV.gz over loopback HTTP → clean → Postgres + partitioned parquet
#   Mage      the tutorial's Mage project (mage/), run headless: `mage run PROJECT nyc_taxi`
#   imported  the same Mage project, unchanged, imported by `weft import mage` and run by weft
#   pandas    a pandas + SQLAlchemy `to_sql` + pyarrow script (pandas_baseline.py)
#   DuckDB    read_csv → view → COPY to CSV + psycopg2 COPY, COPY ... PARTITION_BY (duckdb_baseline.py)
#   \copy     psql's \copy of the same (decompressed, unfiltered) CSV: the limit of a Postgres load
# Each tool replaces ny_taxi.yellow_cab_data in one database and writes its own parquet folder;
# after each, check_output.py checks the table's rows and the parquet's rows and partitions
# (the run stops on any disagreement). Prints wall time, peak memory and the ratios; then
# reading the partitioned export back, weft (a Python block) against pandas.read_parquet.
#
#   bench/nyc_taxi/run.sh [ROWS]        (needs Postgres on 127.0.0.1:5432, trust auth)
#   WEFT_BIN=path/to/weft bench/nyc_taxi/run.sh [ROWS]    use that binary, skip `cargo build`
#
# The Python tools live in venvs under $WEFT_HOME (default ~/.weft), installed when missing:
#   bench-venv         requirements.txt       (pandas, pyarrow, DuckDB, psycopg2; the checks)
#   bench-mage-venv    mage-requirements.txt  (mage-ai and its pinned dependency tree)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1400000}
WEFT_RUNS=${WEFT_RUNS:-5}   # weft and Mage are measured several times; the median run counts
MAGE_RUNS=${MAGE_RUNS:-3}
BENCH=bench/nyc_taxi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
PG_ADMIN=${WEFT_BENCH_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=weft_bench
PG="postgresql://postgres@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
VENV=${WEFT_HOME:-$HOME/.weft}/bench-venv
MAGE_VENV=${WEFT_HOME:-$HOME/.weft}/bench-mage-venv
HTTP_PID=
trap '[ -z "$HTTP_PID" ] || kill "$HTTP_PID" 2>/dev/null || true
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
      rm -rf "$WORK"' EXIT

log() { echo "[bench] $*" >&2; }
# venv DIR REQUIREMENTS IMPORTS: create DIR and install REQUIREMENTS unless IMPORTS already import.
venv() {
  if [ ! -x "$1/bin/python" ] || ! "$1/bin/python" -c "import $3" 2>/dev/null; then
    log "installing $2 into $1"
    python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"
  fi
}
scripts/setup.sh >/dev/null 2>&1
if [ -n "${WEFT_BIN:-}" ]; then
  WEFT=$WEFT_BIN
else
  cargo build --release --workspace --quiet
  WEFT="$CARGO_TARGET_DIR/release/weft"
fi
venv "$VENV" "$BENCH/requirements.txt" "pandas, sqlalchemy, pyarrow, psycopg2, duckdb"
venv "$MAGE_VENV" "$BENCH/mage-requirements.txt" "mage_ai, psycopg2, sshtunnel"

log "generating $ROWS trips"
"$WEFT" generate taxi --rows "$ROWS" --out "$WORK/data/yellow_tripdata_2021-01.csv.gz" --json > "$WORK/counts.json"
KEPT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clean"])' "$WORK/counts.json")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$WORK/data" && exec python3 -m http.server --bind 127.0.0.1 "$PORT" >/dev/null 2>&1) & HTTP_PID=$!
URL="http://127.0.0.1:$PORT/yellow_tripdata_2021-01.csv.gz"
for _ in $(seq 100); do curl -sf -o /dev/null -I "$URL" && break; sleep 0.1; done
QUIET=(env PGOPTIONS='-c client_min_messages=warning')  # no "does not exist, skipping" notices
"${QUIET[@]}" psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
PSQL=("${QUIET[@]}" psql "$PG" -v ON_ERROR_STOP=1 -q)

# A project holding the seed pipeline (the repository's own files).
PROJ="$WORK/project"
mkdir -p "$PROJ/pipelines"
cp -r pipelines/nyc_taxi "$PROJ/pipelines/" && cp -r blocks "$PROJ/" && cp io_config.yaml weft.toml "$PROJ/"
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres POSTGRES_PASSWORD= POSTGRES_DBNAME=$DB
"$WEFT" --project "$PROJ" build >/dev/null 2>&1

timed() { # timed OUT CMD... → OUT.time holds /usr/bin/time -v
  local out=$1; shift
  /usr/bin/time -v -o "$out.time" "$@" > "$out" 2> "$out.err" || { tail -n 30 "$out.err" >&2; exit 1; }
}
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1.time"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1.time"; }
# median_run NAME RUNS BEFORE CMD...: run BEFORE then CMD, RUNS times; the run of median wall
# time becomes $WORK/NAME (its output, .time and .err).
median_run() {
  local name=$1 runs=$2 before=$3 m
  shift 3
  for i in $(seq "$runs"); do
    "$before"
    timed "$WORK/$name.$i" "$@"
  done
  m=$(for i in $(seq "$runs"); do echo "$(wall "$WORK/$name.$i") $i"; done | sort -g | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
  for f in "" .time .err; do cp "$WORK/$name.$m$f" "$WORK/$name$f"; done
}
# Before each tool: no table, so a tool that writes nothing cannot pass on the one before it.
reset_table() { "${PSQL[@]}" -c "DROP TABLE IF EXISTS ny_taxi.yellow_cab_data"; }
# check TOOL PARQUET_DIR: the table and the parquet hold the kept rows, in $PARTS partitions.
check() {
  "$VENV/bin/python" "$BENCH/check_output.py" --tool "$1" --pg "$PG" --parquet-dir "$2" \
    --rows "$KEPT" ${PARTS:+--partitions "$PARTS"} || { log "$1: wrong output (above)"; exit 1; }
}

log "weft (warm-up run, then $WEFT_RUNS measured ones: the median run counts)"
EXPORT="$PROJ/.weft/local/exports/nyc_taxi/yellow_cab_data"
"$WEFT" --project "$PROJ" run nyc_taxi --var "source_url=$URL" >/dev/null 2>&1
median_run weft "$WEFT_RUNS" reset_table "$WEFT" --project "$PROJ" run nyc_taxi --var "source_url=$URL" --json
WEFT_PG_MS=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print([b for b in s["blocks"] if b["block"]=="export_to_postgres"][0]["duration_ms"])' "$WORK/weft")
PARTS=$(check weft "$EXPORT")  # weft's partition count is what the others must match

log "Mage (mage run, its data and run database in a temporary MAGE_DATA_DIR; $MAGE_RUNS runs, the median counts)"
cp -r "$BENCH/mage" "$WORK/mage_nyc_taxi"
MAGE_VARS=$(printf '{"source_url": "%s", "parquet_root": "%s"}' "$URL" "$WORK/mage-parquet")
reset_mage() { reset_table; rm -rf "$WORK/mage-parquet"; }
median_run mage "$MAGE_RUNS" reset_mage env MAGE_DATA_DIR="$WORK/mage-data" POSTGRES_SCHEMA=ny_taxi \
  "$MAGE_VENV/bin/mage" run "$WORK/mage_nyc_taxi" nyc_taxi --runtime-vars "$MAGE_VARS"
check mage "$WORK/mage-parquet" >/dev/null
MAGE_VERSION=$("$MAGE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mage-ai"))')

log "weft running the same Mage project as it is (weft import mage; $WEFT_RUNS runs, the median counts)"
# The project's variables point at the loopback file and a folder of the weft project: the
# grants the import derives follow them.
cp -r "$BENCH/mage" "$WORK/mage_for_weft"
sed -i -e "s#^  source_url: .*#  source_url: $URL#" -e "s#^  parquet_root: .*#  parquet_root: mage_parquet#" \
  "$WORK/mage_for_weft/pipelines/nyc_taxi/metadata.yaml"
IMPORTED="$WORK/imported"
"$WEFT" import mage "$WORK/mage_for_weft" --into "$IMPORTED" > "$WORK/import.txt" 2>&1 \
  || { cat "$WORK/import.txt" >&2; log "the Mage project did not import cleanly"; exit 1; }
"$WEFT" --project "$IMPORTED" build >/dev/null 2>&1
POSTGRES_SCHEMA=ny_taxi "$WEFT" --project "$IMPORTED" run nyc_taxi >/dev/null 2>&1
median_run imported "$WEFT_RUNS" reset_table env POSTGRES_SCHEMA=ny_taxi "$WEFT" --project "$IMPORTED" run nyc_taxi --json
check imported "$IMPORTED/mage_parquet" >/dev/null

log "pandas + SQLAlchemy baseline"
reset_table
timed "$WORK/pandas" "$VENV/bin/python" "$BENCH/pandas_baseline.py" --url "$URL" \
  --pg "postgresql+psycopg2://postgres@127.0.0.1:5432/$DB" --parquet-dir "$WORK/pandas-parquet"
check pandas "$WORK/pandas-parquet" >/dev/null

log "DuckDB baseline"
reset_table
timed "$WORK/duckdb" "$VENV/bin/python" "$BENCH/duckdb_baseline.py" --url "$URL" --pg "$PG" \
  --parquet-dir "$WORK/duckdb-parquet"
check duckdb "$WORK/duckdb-parquet" >/dev/null

log "psql \\copy of the decompressed CSV"
gzip -dc "$WORK/data/yellow_tripdata_2021-01.csv.gz" > "$WORK/plain.csv"
"${PSQL[@]}" -c "DROP TABLE IF EXISTS ny_taxi.copy_limit; CREATE TABLE ny_taxi.copy_limit (vendor_id bigint, tpep_pickup_datetime timestamp, tpep_dropoff_datetime timestamp, passenger_count bigint, trip_distance double precision, ratecode_id bigint, store_and_fwd_flag text, pu_location_id bigint, do_location_id bigint, payment_type bigint, fare_amount double precision, extra double precision, mta_tax double precision, tip_amount double precision, tolls_amount double precision, improvement_surcharge double precision, total_amount double precision, congestion_surcharge double precision)"
timed "$WORK/copy" "${PSQL[@]}" -c "\\copy ny_taxi.copy_limit FROM '$WORK/plain.csv' WITH (FORMAT csv, HEADER true)"

log "reading weft's partitioned export back: weft (a Python block) and pandas.read_parquet"
mkdir -p "$PROJ/pipelines/readback"
printf 'from weft import io, loader\n\n\n@loader\ndef back():\n    return io.read("local://exports/nyc_taxi/yellow_cab_data/")\n' > "$PROJ/blocks/readback.py"
printf 'blocks:\n  - { name: back, kind: loader, source: blocks/readback.py, grants: { urls: ["local://exports/"] } }\n' \
  > "$PROJ/pipelines/readback/pipeline.yaml"
"$WEFT" --project "$PROJ" run readback >/dev/null 2>&1
timed "$WORK/readback" "$WEFT" --project "$PROJ" run readback --json
timed "$WORK/pdread" "$VENV/bin/python" -c "import pandas as pd, sys; print(len(pd.read_parquet(sys.argv[1])))" "$EXPORT"

measured() { for t in "$@"; do printf '%s %s %s ' "$t" "$(wall "$WORK/$t")" "$(rss_mb "$WORK/$t")"; done; }
python3 - "$WORK" "$ROWS" "$KEPT" "$PARTS" "$WEFT_PG_MS" "$MAGE_VERSION" $(measured weft mage imported pandas duckdb copy readback pdread) <<'PY'
import json, sys
work, rows, kept, parts, pg_ms, mage_version, *m = sys.argv[1:]
rows, kept, pg_s = int(rows), int(kept), float(pg_ms) / 1000
t = {m[i]: (float(m[i + 1]), float(m[i + 2])) for i in range(0, len(m), 3)}  # tool → (wall s, RSS MB)
last = lambda name: json.loads(open(f"{work}/{name}").read().strip().splitlines()[-1])
p, d = last("pandas"), last("duckdb")
(weft_s, weft_mb), (mage_s, _), (duck_s, duck_mb) = t["weft"], t["mage"], t["duckdb"]
print(f"nyc_taxi on {rows:,} trips ({kept:,} kept, {parts} pickup dates): "
      "CSV.gz over loopback HTTP → Postgres + partitioned parquet; every output checked")
print(f"{'tool':30}{'wall':>10}{'peak RSS':>12}{'weft speed-up':>16}{'weft memory ratio':>20}")
for name, label in [("weft", "weft run nyc_taxi"), ("mage", f"Mage {mage_version} (mage run)"),
                    ("imported", "weft, Mage project imported"),
                    ("pandas", "pandas + to_sql + pyarrow"), ("duckdb", "DuckDB script")]:
    s, mb = t[name]
    print(f"{label:30}{s:>9.2f}s{mb:>9.0f} MB{s / weft_s:>15.1f}x{weft_mb / mb:>20.2f}")
print("(weft speed-up = tool wall / weft wall; weft memory ratio = weft peak RSS / tool peak RSS)")
print(f"weft vs Mage: weft is {mage_s / weft_s:.1f}x faster (target >= 10x)")
print(f"the Mage project as it is: weft (weft import mage, its pandas blocks unchanged) {t['imported'][0]:.2f}s, "
      f"{mage_s / t['imported'][0]:.1f}x faster than Mage running it (target >= 10x)")
print(f"weft wall / DuckDB wall = {weft_s / duck_s:.2f} (target <= 0.6)")
print(f"weft peak RSS / DuckDB peak RSS = {weft_mb / duck_mb:.2f} (target <= 1)")
print(f"DuckDB phases: load {d['load_seconds']:.2f}s, transform {d['transform_seconds']:.2f}s, "
      f"Postgres {d['postgres_seconds']:.2f}s, parquet {d['parquet_seconds']:.2f}s")
weft_rate, copy_rate = kept / pg_s, rows / t["copy"][0]
print(f"Postgres load: weft {weft_rate:,.0f} rows/s ({pg_s:.2f}s), psql \\copy {copy_rate:,.0f} rows/s "
      f"({t['copy'][0]:.2f}s), pandas to_sql {p['rows_out'] / p['postgres_seconds']:,.0f} rows/s, "
      f"DuckDB CSV + COPY {d['rows_out'] / d['postgres_seconds']:,.0f} rows/s")
print(f"weft's load takes {copy_rate / weft_rate:.2f}x the time of \\copy per row (target <= 1.5x)")
rb = json.loads(open(work + "/readback").read())["blocks"][0]
print(f"read back {rb['rows']:,} rows from the partitioned export: weft run {t['readback'][0]:.2f}s "
      f"(the block {rb['duration_ms'] / 1000:.2f}s), pandas.read_parquet {t['pdread'][0]:.2f}s (both whole processes)")
PY
