#!/usr/bin/env bash
# The web UI, in headless Chromium against a real `weft serve`, in one invocation:
#   paint     first paint of the first node of a 1,000-block pipeline page (layout in a
#             worker), against a 10-block one: the ratio is what the size costs
#   click     a click on a node of the 1,000-block graph until its panel shows
#   notebook  "run block" on a Python transformer over 100,000 rows until its preview shows,
#             as saved and right after an edit (run from its source while its build runs)
#   assets    bytes of the embedded UI as sent (gzipped) and on disk
# Each page load runs ROUNDS times after a warm-up; prints medians.
#
#   bench/ui/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
WORK=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
log() { echo "[bench] $*" >&2; }

scripts/ui.sh --no-test
cargo build --release --bin weft --quiet
WEFT=${WEFT_BIN:-$CARGO_TARGET_DIR/release/weft}

# Two pipelines of SQL blocks (no component to build): 10 and 1,000 blocks, chains of 25
# joined to the chain beside them every fifth step.
python3 - "$WORK" <<'PY'
import os, sys
root = sys.argv[1]
open(os.path.join(root, "weft.toml"), "w").write('name = "ui-bench"\n')
for name, chains, steps in (("ten", 2, 5), ("thousand", 40, 25)):
    d = os.path.join(root, "pipelines", name)
    os.makedirs(os.path.join(d, "sql"), exist_ok=True)
    lines = ["blocks:"]
    for c in range(chains):
        for s in range(steps):
            b = f"b{c:02}_{s:02}"
            open(os.path.join(d, "sql", f"{b}.sql"), "w").write("SELECT 1 AS x\n")
            up = []
            if s > 0:
                up.append(f"b{c:02}_{s-1:02}")
                if c > 0 and s % 5 == 0:
                    up.append(f"b{c-1:02}_{s-1:02}")
            lines.append(f"  - {{ name: {b}, kind: {'loader' if s == 0 else 'transformer'}, source: pipelines/{name}/sql/{b}.sql, upstream: [{', '.join(up)}] }}")
    open(os.path.join(d, "pipeline.yaml"), "w").write("\n".join(lines) + "\n")
# "run block": a SQL loader of 100,000 rows and the Python transformer the notebook runs.
d = os.path.join(root, "pipelines", "preview")
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "rows.sql"), "w").write(
    "SELECT value AS id, value * 0.5 AS amount, concat('row ', value) AS label FROM generate_series(1, 100000)\n")
open(os.path.join(d, "shape.py"), "w").write(
    'from weft import col, transformer\n\n\n@transformer\ndef shape(data, **kwargs):\n'
    '    return data.with_column("doubled", col("amount") * 2)\n')
open(os.path.join(d, "pipeline.yaml"), "w").write(
    "blocks:\n  - { name: rows, kind: loader, source: pipelines/preview/rows.sql }\n"
    "  - { name: shape, kind: transformer, source: pipelines/preview/shape.py, upstream: [rows] }\n")
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$WEFT" --project "$WORK" serve --bind "127.0.0.1:$PORT" >/dev/null 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
log "weft serve on port $PORT"

WEFT_URL="http://127.0.0.1:$PORT" ROUNDS=$ROUNDS node bench/ui/paint.mjs
WEFT_URL="http://127.0.0.1:$PORT" ROUNDS=$ROUNDS node bench/ui/notebook.mjs

gz=$(cat ui/dist/*.gz ui/dist/assets/*.gz | wc -c)
plain=$(find ui/dist -type f ! -name '*.gz' -exec cat {} + | wc -c)
js_gz=$(cat ui/dist/assets/index-*.js.gz | wc -c)
editor_gz=$(cat ui/dist/assets/Editor-*.js.gz | wc -c)
printf 'assets: %d KiB gzipped as sent (the page'"'"'s own script %d KiB; the editor %d KiB, loaded on the notebook page only; the rest the layout worker and styles), %d KiB on disk\n' \
  $((gz / 1024)) $((js_gz / 1024)) $((editor_gz / 1024)) $((plain / 1024))
