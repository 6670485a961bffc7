#!/usr/bin/env bash
# Block packages on loopback, against a real registry (Debian's docker-registry, the CNCF
# distribution server, on a temporary folder), in one invocation:
#   publish   `weft publish` of a ~20 MB Python block package (built beforehand), against
#             oras-py pushing the same bytes
#   add       `weft add` of it into another project (resolve, download, verify, lock, cache),
#             against curl downloading the same blob
#   locked    a cached `weft build --locked` of a project whose pipeline uses 10 packages
#             (Python ones: ~20 MB each, every one hashed against weft.lock)
# Each step runs ROUNDS times after a warm-up; prints medians and the ratios.
#
#   bench/packages/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
ROUNDS=${ROUNDS:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}
WORK=$(mktemp -d)
REG_PID=""
trap '[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
log() { echo "[bench] $*" >&2; }

scripts/setup.sh >/dev/null 2>&1
scripts/test-services.sh >/dev/null 2>&1
ORAS_PY=${WEFT_HOME:-$HOME/.weft}/test-services/oras/bin/python
cargo build --release --bin weft --quiet
WEFT=${WEFT_BIN:-$CARGO_TARGET_DIR/release/weft}
export WEFT_PACKAGE_CACHE=$WORK/cache

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $WORK/registry }, delete: { enabled: true } }
http: { addr: $REG }
YAML
docker-registry serve "$WORK/registry.yml" >/dev/null 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done

# The publisher: one Python block offered as ten packages (same code, ten names).
PUB=$WORK/publisher
mkdir -p "$PUB/blocks"
cp "$REPO/examples/packages/blocks/snake_columns.py" "$PUB/blocks/"
{
  echo 'name = "bench-publisher"'
  for i in $(seq 0 9); do
    printf '[packages.snake%s]\nsource = "blocks/snake_columns.py"\nkind = "transformer"\nversion = "1.0.0"\n' "$i"
  done
} > "$PUB/weft.toml"
log "packaging ten Python packages (componentize-py once, then metadata per name)"
for i in $(seq 0 9); do "$WEFT" --project "$PUB" package "snake$i" >/dev/null 2>&1; done
SIZE=$(stat -c %s "$PUB/.weft/packages/snake0-1.0.0.wasm")

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# time_it CMD...: seconds of one run of CMD.
time_it() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; echo "$(now) - $t0" | bc -l; }

log "publish: weft vs oras-py, $ROUNDS rounds"
cp "$PUB/.weft/packages/snake0-1.0.0.wasm" "$WORK/snake0.wasm"
: > "$WORK/publish.weft"; : > "$WORK/publish.oras"
for r in $(seq 0 "$ROUNDS"); do
  t=$(time_it "$WEFT" --project "$PUB" publish snake0 "$REG/bench/snake0:1.0.0" --overwrite)
  [ "$r" = 0 ] || echo "$t" >> "$WORK/publish.weft"
  t=$(time_it "$ORAS_PY" "$REPO/tests/oras_tool.py" push "$REG/bench/oras$r:1.0.0" "$WORK/snake0.wasm")
  [ "$r" = 0 ] || echo "$t" >> "$WORK/publish.oras"
done
for i in $(seq 1 9); do "$WEFT" --project "$PUB" publish "snake$i" "$REG/bench/snake$i:1.0.0" >/dev/null 2>&1; done

log "add: weft vs curl of the same blob, $ROUNDS rounds"
USER_P=$WORK/user
mkdir -p "$USER_P/pipelines/ten"
echo 'name = "bench-user"' > "$USER_P/weft.toml"
DIGEST=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/bench/snake0/manifests/1.0.0" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
: > "$WORK/add.weft"; : > "$WORK/add.curl"
for r in $(seq 0 "$ROUNDS"); do
  rm -rf "$WEFT_PACKAGE_CACHE"
  t=$(time_it "$WEFT" --project "$USER_P" add "$REG/bench/snake0@^1")
  [ "$r" = 0 ] || echo "$t" >> "$WORK/add.weft"
  t=$(time_it curl -sf -o "$WORK/blob" "http://$REG/v2/bench/snake0/blobs/$DIGEST")
  [ "$r" = 0 ] || echo "$t" >> "$WORK/add.curl"
done

log "locked: a cached build of a pipeline using ten packages"
{
  echo "blocks:"
  echo "  - { name: src, kind: loader, source: $REPO/tests/blocks/python/py_src.py }"
  for i in $(seq 0 9); do echo "  - { name: s$i, kind: transformer, source: \"pkg:bench/snake$i\", upstream: [src] }"; done
} > "$USER_P/pipelines/ten/pipeline.yaml"
for i in $(seq 1 9); do "$WEFT" --project "$USER_P" add "$REG/bench/snake$i@^1" >/dev/null 2>&1; done
"$WEFT" --project "$USER_P" build >/dev/null 2>&1   # compiles once; the rounds are cached
: > "$WORK/locked"
for r in $(seq 0 "$ROUNDS"); do
  t=$(time_it "$WEFT" --project "$USER_P" build --locked)
  [ "$r" = 0 ] || echo "$t" >> "$WORK/locked"
done

pw=$(median < "$WORK/publish.weft"); po=$(median < "$WORK/publish.oras")
aw=$(median < "$WORK/add.weft"); ac=$(median < "$WORK/add.curl")
lk=$(median < "$WORK/locked")
printf '\npackage size: %.1f MB (%d bytes)\n' "$(echo "$SIZE/1000000" | bc -l)" "$SIZE"
printf '%-40s %8s %8s %8s\n' step weft baseline ratio
printf '%-40s %7.2fs %7.2fs %8.2f\n' "publish (baseline: oras-py push)" "$pw" "$po" "$(echo "$pw/$po" | bc -l)"
printf '%-40s %7.2fs %7.2fs %8.2f\n' "add (baseline: curl of the blob)" "$aw" "$ac" "$(echo "$aw/$ac" | bc -l)"
printf '%-40s %7.2fs\n' "build --locked, 10 packages (cached)" "$lk"
