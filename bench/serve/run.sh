#!/usr/bin/env bash
# `weft serve` under load: latency from an API trigger call to the first block starting
# (p50/p99, sequential calls) and sustained triggered runs per second of the 3-block `hello`
# pipeline (Rust blocks), SQLite state. Windmill's published per-job overhead is ~50 ms.
#
#   bench/serve/run.sh [LATENCY_RUNS] [THROUGHPUT_RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
scripts/setup.sh >/dev/null 2>&1
if [ -n "${WEFT_BIN:-}" ]; then
  WEFT=$WEFT_BIN
else
  cargo build --release --workspace --quiet
  WEFT="$CARGO_TARGET_DIR/release/weft"
fi
PROJ=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$PROJ"' EXIT
mkdir -p "$PROJ/pipelines" "$PROJ/blocks"
cp -r pipelines/hello "$PROJ/pipelines/" && cp -r blocks/hello_* "$PROJ/blocks/" && cp weft.toml "$PROJ/"
printf -- '- name: webhook\n  type: api\n' > "$PROJ/pipelines/hello/triggers.yaml"
"$WEFT" --project "$PROJ" build >/dev/null 2>&1
TOKEN=$("$WEFT" --project "$PROJ" triggers token webhook 2>/dev/null | tail -n1)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$WEFT" --project "$PROJ" serve --bind "127.0.0.1:$PORT" 2>"$PROJ/serve.log" & PID=$!
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/health" && break; sleep 0.1; done
python3 bench/serve/load.py --base "http://127.0.0.1:$PORT" --pipeline hello --trigger webhook --token "$TOKEN" \
  --latency-runs "${1:-200}" --throughput-runs "${2:-500}"
