#!/usr/bin/env bash
# The cost of the sandbox's hardening, measured in one invocation: the `weft` of a base
# commit (by default the last one before SECURITY.md existed) against this checkout's, on
#   dispatch   a chain of 300 no-op Rust blocks, `weft run` end to end: time per block
#   nyc_taxi   the seed pipeline on a generated month of trips (1.4 M rows, embedded defaults)
# Runs alternate base/head, seven rounds each (ROUNDS) after a warm-up; prints medians and ratios.
#
#   bench/hardening/run.sh [BASE_COMMIT] [ROWS]
#
# The base is built in its own target folder ($HOME/.cache/weft/target-base): about half an
# hour the first time on 2 cores, seconds afterwards. WEFT_BASE_SRC names a checkout of the
# base to build in instead of a new worktree (its build is then reused as it is).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
BASE=${1:-$(git rev-parse "$(git log --diff-filter=A --format=%H -- SECURITY.md | tail -n1)^")}
ROWS=${2:-1400000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
BASE_TARGET=${WEFT_BASE_TARGET:-$HOME/.cache/weft/target-base}
WORK=$(mktemp -d)
trap 'git -C "$REPO" worktree remove --force "$WORK/base-src" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
log() { echo "[bench] $*" >&2; }

scripts/setup.sh >/dev/null 2>&1
log "building head ($(git rev-parse --short HEAD))"
cargo build --release --bin weft --quiet
cp "$CARGO_TARGET_DIR/release/weft" "$WORK/weft-head"
log "building base ($(git rev-parse --short "$BASE")) in $BASE_TARGET"
BASE_SRC=${WEFT_BASE_SRC:-$WORK/base-src}
[ -n "${WEFT_BASE_SRC:-}" ] || git worktree add --detach "$BASE_SRC" "$BASE" >/dev/null 2>&1
[ "$(git -C "$BASE_SRC" rev-parse HEAD)" = "$(git rev-parse "$BASE")" ] || { echo "$BASE_SRC is not at $BASE" >&2; exit 1; }
(cd "$BASE_SRC" && CARGO_TARGET_DIR="$BASE_TARGET" cargo build --release --bin weft --quiet)
cp "$BASE_TARGET/release/weft" "$WORK/weft-base"

# Projects: one per binary, so each keeps its own state and build cache; each takes the
# pipeline, blocks and probe block of its own tree (the formats changed between them).
for v in base head; do
  P="$WORK/proj-$v"
  if [ "$v" = base ]; then TREE=$BASE_SRC; else TREE=$REPO; fi
  mkdir -p "$P/pipelines/chain" "$P/pipelines/nyc_taxi" "$P/data"
  echo 'name = "bench"' > "$P/weft.toml"
  { echo "blocks:"
    echo "  - { name: b0, kind: loader, source: $TREE/tests/blocks/probe, config: { mode: noop } }"
    for i in $(seq 1 299); do
      echo "  - { name: b$i, kind: transformer, source: $TREE/tests/blocks/probe, upstream: [b$((i-1))], config: { mode: noop } }"
    done; } > "$P/pipelines/chain/pipeline.yaml"
  cp -r "$TREE/pipelines/nyc_taxi/." "$P/pipelines/nyc_taxi/" && cp -r "$TREE/blocks" "$P/" && cp "$TREE/io_config.yaml" "$P/"
done
log "generating $ROWS trips"
"$WORK/weft-head" generate taxi --rows "$ROWS" --out "$WORK/trips.csv.gz" >/dev/null
for v in base head; do
  cp "$WORK/trips.csv.gz" "$WORK/proj-$v/data/"
  "$WORK/weft-$v" --project "$WORK/proj-$v" build >"$WORK/build-$v.log" 2>&1 || { cat "$WORK/build-$v.log" >&2; exit 1; }
done
# The base's seed pipeline may read from .weft/data/ (before `data/` existed).
mkdir -p "$WORK/proj-base/.weft/data" && cp "$WORK/trips.csv.gz" "$WORK/proj-base/.weft/data/"
src() { if grep -q "file://data/" "$WORK/proj-$1/pipelines/nyc_taxi/pipeline.yaml"; then echo "file://data/trips.csv.gz"; else echo "file://.weft/data/trips.csv.gz"; fi; }
NOPG=(env POSTGRES_HOST= GCS_BUCKET= BIGQUERY_PROJECT=)

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
declare -A TIMES
for round in $(seq 0 "${ROUNDS:-7}"); do
  for v in base head; do
    c=$(ms "${NOPG[@]}" "$WORK/weft-$v" --project "$WORK/proj-$v" run chain)
    t=$(ms "${NOPG[@]}" "$WORK/weft-$v" --project "$WORK/proj-$v" run nyc_taxi --var "source_url=$(src "$v")")
    [ "$round" = 0 ] && continue   # warm-up
    TIMES[$v-chain]+="$c "; TIMES[$v-taxi]+="$t "
    log "round $round $v: chain ${c} ms, nyc_taxi ${t} ms"
  done
done
python3 - "${TIMES[base-chain]}" "${TIMES[head-chain]}" "${TIMES[base-taxi]}" "${TIMES[head-taxi]}" "$(git rev-parse --short "$BASE")" "$(git rev-parse --short HEAD)" <<'PY'
import statistics, sys
bc, hc, bt, ht = ([float(x) / 1000 for x in a.split()] for a in sys.argv[1:5])
base, head = sys.argv[5], sys.argv[6]
m = statistics.median
print(f"{'':34}{'base ' + base:>16}{'head ' + head:>16}{'head/base':>11}")
print(f"{'dispatch, per block (300 chained)':34}{m(bc)/300*1000:>13.2f} ms{m(hc)/300*1000:>13.2f} ms{m(hc)/m(bc):>11.3f}")
print(f"{'nyc_taxi run (whole process)':34}{m(bt):>14.2f} s{m(ht):>14.2f} s{m(ht)/m(bt):>11.3f}")
PY
