#!/usr/bin/env bash
# setup.sh — install what `weft build` needs to compile Rust blocks to WebAssembly components.
#
# Idempotent: a second run takes about a second. Two routes:
#   * rustup with the wasm32-wasip2 target available: used as is (`rustup target add`).
#   * Debian bookworm without rustup wasm targets: Debian's rustc-web (1.96) + its std source,
#     built with -Zbuild-std, linked by wasm-component-ld with LLD 22 and Debian's wasi-libc.
#
# Python blocks: componentize-py in a virtual environment at $WEFT_HOME/toolchain/python
# (never in the user's own Python).
#
# Writes $WEFT_HOME/toolchain/env (KEY=VALUE lines) that `weft build` reads.
# WEFT_HOME defaults to ~/.weft.
set -euo pipefail
WEFT_HOME=${WEFT_HOME:-$HOME/.weft}
TOOLCHAIN="$WEFT_HOME/toolchain"
ENV_FILE="$TOOLCHAIN/env"
WANT_RUST=1.96
COMPONENTIZE_PY=0.25.1
t0=$(date +%s)
log() { echo "[weft setup +$(( $(date +%s) - t0 ))s] $*" >&2; }
mkdir -p "$TOOLCHAIN"

# ------------------------------------------------------------------ Python blocks
PYENV="$TOOLCHAIN/python"
if ! "$PYENV/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY"; then
  PY=$(command -v python3 || true)
  [ -n "$PY" ] || { echo "weft setup: python3 is needed to install componentize-py" >&2; exit 1; }
  if ! "$PY" -m venv --clear "$PYENV" >/dev/null 2>&1; then
    log "apt-get install python3-venv"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-venv >/dev/null
    "$PY" -m venv --clear "$PYENV"
  fi
  log "pip install componentize-py==$COMPONENTIZE_PY"
  "$PYENV/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY"
fi
log "python blocks: $("$PYENV/bin/componentize-py" --version)"

# ------------------------------------------------------------------ build jail
# Rust blocks' build scripts and proc-macros run in bubblewrap (no network, nothing writable
# but the target folder) where it works; installing it needs root, so it is best-effort.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  log "apt-get install bubblewrap (the build jail)"
  { $SUDO apt-get install -y -q bubblewrap >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q bubblewrap >/dev/null 2>&1; }; } \
    || log "bubblewrap could not be installed: Rust blocks will build outside a jail"
fi

rustup_route() {
  command -v rustup >/dev/null 2>&1 || return 1
  rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 && return 0
  log "trying: rustup target add wasm32-wasip2"
  rustup target add wasm32-wasip2 >/dev/null 2>&1
}

if [ "${WEFT_SETUP_ROUTE:-}" != debian ] && rustup_route; then
  log "using rustup's wasm32-wasip2 target"
  cat > "$ENV_FILE" <<ENV
# written by weft setup: rustup route
WEFT_CARGO=$(command -v cargo)
CARGO_BUILD_TARGET=wasm32-wasip2
ENV
  log "wrote $ENV_FILE"
  exit 0
fi

# ------------------------------------------------------------------ Debian route
PKGS="rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=0
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need=1
done
if [ "$need" = 1 ]; then
  if ! apt-cache policy rustc-web 2>/dev/null | grep -q "$WANT_RUST"; then
    grep -rqs "bookworm-security" /etc/apt/sources.list /etc/apt/sources.list.d/ || \
      echo "deb http://deb.debian.org/debian-security bookworm-security main" | \
        $SUDO tee /etc/apt/sources.list.d/bookworm-security.list >/dev/null
  fi
  log "apt-get update"
  $SUDO apt-get update -q >/dev/null
  log "apt-get install $PKGS"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $PKGS >/dev/null
fi
/usr/bin/rustc -V | grep -q "^rustc $WANT_RUST" || { echo "weft setup: expected Debian rustc $WANT_RUST at /usr/bin/rustc" >&2; exit 1; }
test -f /usr/lib/rustlib/src/rust/library/std/Cargo.toml || { echo "weft setup: rust-web-src is missing" >&2; exit 1; }
test -x /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld || { echo "weft setup: wasm-component-ld is missing (rust-web-llvm)" >&2; exit 1; }
test -x /usr/bin/wasm-ld-22 || { echo "weft setup: /usr/bin/wasm-ld-22 is missing (lld-22)" >&2; exit 1; }
test -f /usr/lib/wasm32-wasi/libc.a || { echo "weft setup: wasi-libc is missing" >&2; exit 1; }

cat > "$ENV_FILE" <<ENV
# written by weft setup: Debian rustc-web route (build-std)
WEFT_CARGO=/usr/bin/cargo
RUSTC=/usr/bin/rustc
RUSTDOC=/usr/bin/rustdoc
RUSTC_BOOTSTRAP=1
CARGO_BUILD_TARGET=wasm32-wasip2
CARGO_UNSTABLE_BUILD_STD=std,panic_abort
CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS=-L native=/usr/lib/wasm32-wasi -C link-self-contained=no -C link-arg=--wasm-ld-path=/usr/bin/wasm-ld-22
ENV
log "toolchain: $(/usr/bin/rustc -V)"
log "wrote $ENV_FILE"
