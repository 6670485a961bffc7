#!/usr/bin/env bash
# Run weft's whole test suite: install the Wasm toolchain if needed, check formatting and
# lints, then build and run every test (test blocks are compiled from source by the tests).
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (WEFT_TEST_PG overrides the admin URL);
# installs the cloud emulators the IO tests start (fake-gcs-server, moto, bqemulator) and
# Chromium; builds the web UI (npm) and runs its unit tests before the Rust build embeds it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/test-services.sh
scripts/ui.sh
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings
# The `ci` profile (Cargo.toml): optimised where the tests spend their time, quick to build.
cargo test --profile ci --workspace
