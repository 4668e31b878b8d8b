#!/usr/bin/env python3
"""Regenerate the caller WAVs of the replay scenarios (called by scripts/gen-fixtures.sh).

Every scenario TOML under audio-fixtures/ is the single source of truth: each turn's
`text` is spoken in the scenario's `[fixture] voice` and written to the turn's `wav`
(relative to the scenario file), band-limited to telephone quality (300-3400 Hz,
8 kHz mono 16-bit), optionally with line noise (`[fixture] noise_db`, the level of
pink noise in dBFS). A `|` in a turn's text is a pause inside the turn
(`[fixture] pause_ms`, default 800): the caller stops, then goes on.
audio-fixtures/greeting.wav comes from scripts/gen-greeting.sh.

Voices: "espeak:<voice>[@wpm]" (espeak-ng, e.g. espeak:en-us+m3@150),
"flite:<voice>" (kal, slt, awb, rms), "festival:<voice>" (e.g. ked_diphone).
Output is deterministic for a given set of installed synthesizers (sox runs with -R).
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio-fixtures"


def synth(voice: str, text: str, out: pathlib.Path) -> None:
    engine, _, name = voice.partition(":")
    if engine == "espeak":
        name, _, wpm = name.partition("@")
        cmd = ["espeak-ng", "-v", name, "-s", wpm or "165", "-w", str(out), text]
        subprocess.run(cmd, check=True)
    elif engine == "flite":
        subprocess.run(["flite", "-voice", name, "-t", text, "-o", str(out)], check=True)
    elif engine == "festival":
        subprocess.run(
            ["text2wave", "-eval", f"(voice_{name})", "-o", str(out)],
            input=text.encode(),
            check=True,
        )
    else:
        sys.exit(f"unknown voice engine in {voice!r}")


def synth_with_pauses(voice: str, text: str, pause_ms: int, out: pathlib.Path) -> None:
    """Speak `text`; each `|` becomes `pause_ms` of silence."""
    parts = [p.strip() for p in text.split("|") if p.strip()]
    if len(parts) == 1:
        synth(voice, parts[0], out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, part in enumerate(parts):
            f = pathlib.Path(tmp) / f"part{i}.wav"
            synth(voice, part, f)
            files.append(f)
        rate = subprocess.run(["soxi", "-r", str(files[0])], check=True,
                              capture_output=True, text=True).stdout.strip()
        silence = pathlib.Path(tmp) / "pause.wav"
        subprocess.run(["sox", "-R", "-n", "-r", rate, "-c", "1", "-b", "16", str(silence),
                        "trim", "0", f"{pause_ms / 1000:.3f}"], check=True)
        joined = [files[0]]
        for f in files[1:]:
            joined += [silence, f]
        subprocess.run(["sox", "-R", *map(str, joined), "-b", "16", str(out)], check=True)


def telephone(raw: pathlib.Path, out: pathlib.Path, noise_db: float | None) -> None:
    """Band-limit to 300-3400 Hz at 8 kHz mono 16-bit, pad, normalise, add noise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clean = pathlib.Path(tmp) / "clean.wav"
        subprocess.run(
            ["sox", "-R", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(clean),
             "gain", "-n", "-6", "sinc", "300-3400", "norm", "-3", "pad", "0.15", "0.25"],
            check=True,
        )
        if noise_db is None:
            clean.replace(out)
            return
        dur = subprocess.run(["soxi", "-D", str(clean)], check=True,
                             capture_output=True, text=True).stdout.strip()
        noise = pathlib.Path(tmp) / "noise.wav"
        subprocess.run(
            ["sox", "-R", "-n", "-r", "8000", "-c", "1", "-b", "16", str(noise),
             "synth", dur, "pinknoise", "sinc", "300-3400", "norm", str(noise_db)],
            check=True,
        )
        subprocess.run(
            ["sox", "-R", "-m", str(clean), str(noise), "-b", "16", str(out), "norm", "-3"],
            check=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", help="only scenarios whose file name contains this")
    ap.add_argument("--dir", default=str(FIXTURES),
                    help="scenario directory (default audio-fixtures/; bench-fixtures/latency "
                         "holds the held-out latency callers)")
    args = ap.parse_args()
    fixtures = pathlib.Path(args.dir).resolve()
    made = 0
    with tempfile.TemporaryDirectory() as tmp:
        raw = pathlib.Path(tmp) / "raw.wav"
        if not args.only and fixtures == FIXTURES:
            # The foundation greeting has its own script (its unit test pins its length).
            subprocess.run([str(ROOT / "scripts" / "gen-greeting.sh")], check=True)
            made += 1
        for path in sorted(fixtures.rglob("*.toml")):
            if args.only and args.only not in path.name:
                continue
            scenario = tomllib.loads(path.read_text())
            fixture = scenario.get("fixture", {})
            voice = fixture.get("voice")
            noise_db = fixture.get("noise_db")
            for turn in scenario.get("turns", []):
                if "wav" not in turn:
                    continue
                if not voice or not turn.get("text"):
                    sys.exit(f"{path}: a turn with `wav` needs `text` and [fixture] voice")
                synth_with_pauses(voice, turn["text"], fixture.get("pause_ms", 800), raw)
                telephone(raw, path.parent / turn["wav"], noise_db)
                made += 1
    print(f"gen-fixtures: wrote {made} WAV files under {fixtures}/")


if __name__ == "__main__":
    main()
