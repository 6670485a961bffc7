#!/usr/bin/env bash
# ui.sh — build the web UI `weft serve` embeds (ui/ → ui/dist, with gzipped copies) and run its
# unit tests. Needs Node 20+ and npm; `cargo build` afterwards embeds the result. Without a
# built UI, weft still builds and serves a page saying how to build it.
#
#   scripts/ui.sh [--no-test]
set -euo pipefail
cd "$(dirname "$0")/../ui"
t0=$(date +%s)
log() { echo "[ui +$(( $(date +%s) - t0 ))s] $*" >&2; }
if ! command -v npm >/dev/null; then
  log "npm not found: weft will be built without its web UI"
  exit 0
fi
# Reinstall only when the lock file changed.
if [ ! -f node_modules/.ok ] || ! cmp -s package-lock.json node_modules/.ok; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.ok
fi
log "building"
# Quiet when it works; what the compiler said when it does not.
out=$(npm run --silent build 2>&1) || { echo "$out" >&2; log "the UI did not build"; exit 1; }
log "built: $(du -sh dist | cut -f1) in ui/dist ($(cat dist/assets/*.gz dist/*.gz | wc -c) bytes gzipped)"
if [ "${1:-}" != "--no-test" ]; then
  npx vitest run --reporter=dot
fi
