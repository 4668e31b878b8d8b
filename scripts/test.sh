#!/usr/bin/env bash
# The project's test command (README and CI run exactly this):
# system packages, model files, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --bins --tests
cargo run --locked -q -- models fetch
cargo test --locked -- --test-threads 2
