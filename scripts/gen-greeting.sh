#!/usr/bin/env bash
# Regenerates audio-fixtures/greeting.wav: real (synthetic) speech saying
# "Hello, thanks for calling. How can I help you today?" as 8 kHz mono 16-bit PCM.
# Needs espeak-ng and sox (apt-get install espeak-ng sox). Output is deterministic
# for a given espeak-ng/sox version.
set -euo pipefail
cd "$(dirname "$0")/.."
TEXT="Hello, thanks for calling. How can I help you today?"
OUT=audio-fixtures/greeting.wav
tmp=$(mktemp --suffix=.wav)
trap 'rm -f "$tmp"' EXIT
mkdir -p audio-fixtures
# 220 wpm (brisk but clear) American English voice; espeak-ng writes 22.05 kHz mono.
espeak-ng -v en-us -s 220 -w "$tmp" "$TEXT"
# -R -D: repeatable, no dither (byte-identical output). Trim leading/trailing
# silence, leave 100 ms pads, normalise to -3 dBFS, band-limit + resample to 8 kHz (sox's high-quality "rate -v"), 16-bit mono.
sox -R -D "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$OUT" \
  silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
  pad 0.1 0.1 norm -3 rate -v 8000
echo "wrote $OUT ($(soxi -D "$OUT") s, $(soxi -r "$OUT") Hz)"
