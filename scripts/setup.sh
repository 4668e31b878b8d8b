#!/usr/bin/env bash
# Installs the system packages Switchboard needs, idempotently (skips what is present).
#   cmake, clang, libclang-dev : build whisper.cpp (whisper-rs) for the embedded STT
#   espeak-ng                  : phonemizer for the embedded Piper voice (run as a subprocess)
#   pkg-config                 : native builds
#   sox                        : regenerating audio fixtures (scripts/gen-fixtures.sh)
set -euo pipefail
packages=(cmake clang libclang-dev espeak-ng pkg-config sox pocketsphinx-testdata flite festival festvox-kdlpc16k)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust from https://rustup.rs" >&2
  exit 1
fi
