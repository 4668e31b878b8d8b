#!/usr/bin/env bash
# The project's test command (README and CI run exactly this):
# system packages, model files, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --bins --tests
cargo run --locked -q -- models fetch
# One test at a time: the embedded-stack tests run real models and the replay tests
# time real calls; on a 2-core machine they must not starve each other.
cargo test --locked -- --test-threads 1
# Every QA scenario in audio-fixtures/ over the real Media Streams protocol against
# the embedded stack; fails on any mismatch (reports, recordings, JUnit in target/replay/).
scripts/replay.sh
