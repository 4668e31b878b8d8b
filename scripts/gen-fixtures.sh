#!/usr/bin/env bash
# Regenerates the caller audio of the replay scenarios in audio-fixtures/ (and the
# foundation greeting) from the scenario files' `text` and `[fixture] voice`:
# espeak-ng variants, flite voices and festival, band-limited to telephone quality
# (300-3400 Hz, 8 kHz mono 16-bit) with sox; `[fixture] noise_db` adds line noise.
#   scripts/gen-fixtures.sh              # everything
#   scripts/gen-fixtures.sh --only barge # scenarios whose file name contains "barge"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for tool in espeak-ng flite text2wave sox soxi python3; do
  command -v "$tool" >/dev/null || { echo "gen-fixtures: $tool is missing" >&2; exit 1; }
done
exec python3 scripts/gen_fixtures.py "$@"
