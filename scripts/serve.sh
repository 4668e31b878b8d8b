#!/usr/bin/env bash
# Start Switchboard on embedded defaults: installs system packages, builds, fetches the
# model files on first run, and serves on 0.0.0.0:8080 (pass extra `serve` flags through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo run --locked --release -- serve "$@"
