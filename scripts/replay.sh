#!/usr/bin/env bash
# Every QA replay scenario in audio-fixtures/ against the embedded stack, over the real
# Media Streams protocol (fast mode); exit code 1 on any mismatch. Recordings, JSON
# reports and JUnit XML go to target/replay/ (or $CARGO_TARGET_DIR/replay/).
# scripts/test.sh (and so CI) runs it after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --locked -q -- models fetch
out="${CARGO_TARGET_DIR:-target}/replay"
mkdir -p "$out"
cargo run --locked -q -- replay audio-fixtures/ --speed fast --out "$out" --junit "$out/junit.xml"
