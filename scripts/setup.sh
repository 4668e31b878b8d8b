#!/usr/bin/env bash
# Installs the system packages Switchboard needs, idempotently (skips what is present),
# and checks the Rust toolchain. Debian/Ubuntu with apt, as root or with sudo.
#   cmake, clang, libclang-dev : build whisper.cpp (whisper-rs) for the embedded STT
#   espeak-ng                  : phonemizer for the embedded Piper voice (run as a subprocess)
#   pkg-config                 : native builds
#   libopus-dev                : Opus for the browser softphone (audiopus links it)
#   sox                        : audio fixtures (scripts/gen-fixtures.sh)
#   pocketsphinx-testdata      : real human speech clips the VAD tests read
#   flite, festival, festvox-kdlpc16k : the replay fixtures' caller voices
# With --tests (scripts/test.sh), also what only the tests use:
#   postgresql                 : the store tests' real PostgreSQL server (scripts/postgres.sh
#                                starts a throwaway cluster; no system service is used)
#   python3, python3-venv, python3-pip : virtualenvs for the deploy checks and the test
#                                llama.cpp server (scripts/check-deploy.sh, llama-server.sh)
#   chromium                   : the softphone and console tests drive a real headless Chromium
# On a machine without apt it names what to install instead, and fails if any is missing.
set -euo pipefail
packages=(cmake clang libclang-dev espeak-ng pkg-config libopus-dev sox pocketsphinx-testdata flite festival festvox-kdlpc16k)
tests=false
[ "${1:-}" = "--tests" ] && tests=true && packages+=(postgresql python3 python3-venv python3-pip chromium)
# The Rust version Cargo.toml's rust-version asks for.
min_rust="1.92"

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if ! command -v sudo >/dev/null; then
        echo "setup: need root or sudo to run: apt-get install ${missing[*]}" >&2
        exit 1
      fi
      SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  # No apt: check for the programs and files themselves and say what is missing.
  need=()
  for cmd in cmake clang pkg-config espeak-ng sox flite text2wave; do
    command -v "$cmd" >/dev/null || need+=("$cmd")
  done
  $tests && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && need+=("PostgreSQL server (initdb, pg_ctl) under /usr/lib/postgresql/<version>/bin")
  pkg-config --exists opus 2>/dev/null || need+=("libopus development files (pkg-config opus)")
  $tests && ! command -v chromium >/dev/null && need+=("chromium")
  [ -d /usr/share/pocketsphinx/test/data ] || need+=("pocketsphinx test data in /usr/share/pocketsphinx/test/data")
  if ((${#need[@]})); then
    cat >&2 <<EOF
setup: this machine has no apt-get, so Switchboard cannot install its system packages.
Missing: ${need[*]}
Install the equivalents of the Debian packages
  ${packages[*]}
with your package manager (for example on Fedora: dnf install cmake clang clang-devel
espeak-ng pkgconf sox flite festival), or run on Debian 12 / Ubuntu 22.04+.
EOF
    exit 1
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust $min_rust or newer with rustup (https://rustup.rs):" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
  exit 1
fi
have_rust="$(rustc --version | awk '{print $2}')"
if [ "$(printf '%s\n%s\n' "$min_rust" "$have_rust" | sort -V | head -n1)" != "$min_rust" ]; then
  echo "setup: Rust $have_rust is older than $min_rust; run: rustup update stable" >&2
  exit 1
fi
