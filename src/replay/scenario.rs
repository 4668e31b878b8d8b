//! Scenario files: one simulated phone call in TOML — who calls, what they say
//! (ordered turns of WAV audio, DTMF, barge-in offsets) and what must happen
//! (agent path, outcome, phrases, latency budget). Also finds scenario files in
//! directories and turns caller WAVs into 20 ms μ-law frames.
//!
//! ```toml
//! from = "+15551230001"               # caller id (start.customParameters.From)
//! to = "+18005550100"                 # optional
//! reply_gap_ms = 1500                 # optional: bot silence that ends its reply
//! [params]                            # optional extra customParameters
//! Tenant = "acme"
//! [[turns]]
//! wav = "callers/charged-twice-1.wav" # relative to this file
//! text = "I was charged twice"        # optional, for reports
//! barge_in_ms = 800                   # optional: start 800 ms into the bot's reply
//! dtmf = "1234#"                      # optional keypad digits after the audio
//! silence_after_ms = 1000             # optional trailing silence
//! [expect]
//! agents = ["triage", "billing"]
//! outcome = "completed"
//! must_say = ["refund"]
//! must_not_say = ["transferring you"]
//! max_first_reply_ms = 2500
//! interrupted = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::audio::frames::FRAME_BYTES;
use crate::audio::MULAW_SILENCE;

use super::error::ReplayError;

/// Default called number.
pub const DEFAULT_TO: &str = "+18005550100";
/// Default trailing silence after a caller turn (long enough for any endpointer).
pub const DEFAULT_SILENCE_AFTER_MS: u64 = 1000;
/// Default bot silence after which its reply counts as finished.
pub const DEFAULT_REPLY_GAP_MS: u64 = 1500;
/// Default time to wait for a reply that never starts.
pub const DEFAULT_REPLY_TIMEOUT_MS: u64 = 20_000;
/// Time between two DTMF digits of one turn.
pub const DTMF_GAP_MS: u64 = 200;

/// One simulated call.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name used for outputs and reports (default: the file stem).
    #[serde(default)]
    pub name: String,
    /// Free text for humans.
    #[serde(default)]
    pub description: String,
    /// Caller's phone number (E.164), sent as `customParameters.From`.
    pub from: String,
    /// Called number, sent as `customParameters.To`.
    #[serde(default = "default_to")]
    pub to: String,
    /// Extra `customParameters`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Bot silence (ms of line time) after which its reply counts as finished.
    #[serde(default = "default_reply_gap")]
    pub reply_gap_ms: u64,
    /// How long to wait for a reply that never starts before moving on.
    #[serde(default = "default_reply_timeout")]
    pub reply_timeout_ms: u64,
    /// Trailing silence for turns that do not set their own.
    #[serde(default = "default_silence_after")]
    pub silence_after_ms: u64,
    /// Wait for the bot's greeting before the first turn (default true).
    #[serde(default = "default_true")]
    pub wait_for_greeting: bool,
    /// What the caller does, in order.
    #[serde(default)]
    pub turns: Vec<Turn>,
    /// What must happen.
    #[serde(default)]
    pub expect: Expect,
    /// Settings for `scripts/gen-fixtures.sh` (voice, line noise); ignored here.
    #[serde(default)]
    pub fixture: toml::Table,
    /// The file this scenario was read from (set by [`Scenario::load`]).
    #[serde(skip)]
    pub path: PathBuf,
}

/// One caller turn.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// Caller audio, relative to the scenario file. Any WAV format.
    #[serde(default)]
    pub wav: Option<PathBuf>,
    /// What the audio says (reports only).
    #[serde(default)]
    pub text: Option<String>,
    /// Start speaking once this much of the bot's reply has played.
    #[serde(default)]
    pub barge_in_ms: Option<u64>,
    /// Keypad digits pressed after the audio (`0-9`, `*`, `#`, `A-D`).
    #[serde(default)]
    pub dtmf: Option<String>,
    /// Silence after the caller's input (default: the scenario's `silence_after_ms`).
    #[serde(default)]
    pub silence_after_ms: Option<u64>,
}

/// Expectations checked after the call; unset ones are not checked.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exact agent path (`agents` of the call record).
    pub agents: Option<Vec<String>>,
    /// `completed`, `escalated` or `hangup`.
    pub outcome: Option<String>,
    /// Phrases some agent line must contain (case-insensitive).
    #[serde(default)]
    pub must_say: Vec<String>,
    /// Phrases no agent line may contain (case-insensitive).
    #[serde(default)]
    pub must_not_say: Vec<String>,
    /// Budget for every reply: end of caller input → first bot audio (ms, client-side).
    pub max_first_reply_ms: Option<u64>,
    /// Whether some agent line was interrupted by the caller.
    pub interrupted: Option<bool>,
    /// The caller heard at least this much bot audio in total.
    pub min_bot_audio_ms: Option<u64>,
}

fn default_to() -> String {
    DEFAULT_TO.to_string()
}
fn default_reply_gap() -> u64 {
    DEFAULT_REPLY_GAP_MS
}
fn default_reply_timeout() -> u64 {
    DEFAULT_REPLY_TIMEOUT_MS
}
fn default_silence_after() -> u64 {
    DEFAULT_SILENCE_AFTER_MS
}
fn default_true() -> bool {
    true
}

impl Scenario {
    /// Parse scenario TOML; `path` names it in errors and anchors relative WAV paths.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ReplayError> {
        let invalid = |message: String| ReplayError::Scenario {
            path: path.to_path_buf(),
            message,
        };
        let mut s: Scenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        s.path = path.to_path_buf();
        if s.name.is_empty() {
            s.name = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into());
        }
        s.validate().map_err(invalid)?;
        Ok(s)
    }

    /// Read and parse a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ReplayError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReplayError::Scenario {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Scenario::parse(&text, path)
    }

    fn validate(&self) -> Result<(), String> {
        if self.from.trim().is_empty() {
            return Err("`from` (the caller's number) is empty".into());
        }
        if self.name.chars().any(|c| c == '/' || c == '\\') {
            return Err(format!(
                "name {:?} must not contain path separators",
                self.name
            ));
        }
        for (i, t) in self.turns.iter().enumerate() {
            let n = i + 1;
            if t.wav.is_none() && t.dtmf.as_deref().unwrap_or("").is_empty() {
                return Err(format!("turn {n} has neither `wav` nor `dtmf`"));
            }
            if let Some(d) = &t.dtmf {
                if let Some(bad) = d.chars().find(|c| !is_dtmf_digit(*c)) {
                    return Err(format!("turn {n}: {bad:?} is not a DTMF digit"));
                }
            }
        }
        if let Some(o) = &self.expect.outcome {
            if !["completed", "escalated", "hangup"].contains(&o.as_str()) {
                return Err(format!(
                    "expect.outcome {o:?} is not one of completed, escalated, hangup"
                ));
            }
        }
        Ok(())
    }

    /// Where a turn's WAV lives (relative paths are resolved against the scenario file).
    pub fn wav_path(&self, turn: &Turn) -> Option<PathBuf> {
        let wav = turn.wav.as_ref()?;
        if wav.is_absolute() {
            return Some(wav.clone());
        }
        let base = self.path.parent().unwrap_or(Path::new("."));
        Some(base.join(wav))
    }

    /// Every turn's caller audio as 20 ms μ-law frames (the last one padded with silence).
    pub fn load_audio(&self) -> Result<Vec<Vec<[u8; FRAME_BYTES]>>, ReplayError> {
        self.turns
            .iter()
            .map(|t| match self.wav_path(t) {
                None => Ok(Vec::new()),
                Some(p) => wav_frames(&p),
            })
            .collect()
    }
}

/// `0-9`, `*`, `#`, `A-D` (`w` is not a digit Twilio reports).
pub fn is_dtmf_digit(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A' | 'B' | 'C' | 'D')
}

/// Read any WAV and convert it to 8 kHz μ-law 20 ms frames.
pub fn wav_frames(path: &Path) -> Result<Vec<[u8; FRAME_BYTES]>, ReplayError> {
    let err = |message: String| ReplayError::Audio {
        path: path.to_path_buf(),
        message,
    };
    let pcm = crate::audio::wav::read_wav(path).map_err(|e| err(e.to_string()))?;
    let mulaw = crate::audio::wav::to_phone(&pcm).map_err(|e| err(e.to_string()))?;
    Ok(mulaw_frames(&mulaw))
}

/// Split μ-law bytes into frames, padding the last with silence.
pub fn mulaw_frames(mulaw: &[u8]) -> Vec<[u8; FRAME_BYTES]> {
    mulaw
        .chunks(FRAME_BYTES)
        .map(|c| {
            let mut f = [MULAW_SILENCE; FRAME_BYTES];
            f[..c.len()].copy_from_slice(c);
            f
        })
        .collect()
}

/// Scenario files named by `paths`: files as given, directories searched
/// recursively for `*.toml`, sorted by path, duplicates removed.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReplayError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect_toml(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(ReplayError::Scenario {
                path: p.clone(),
                message: "no such file or directory".into(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReplayError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ReplayError::Scenario {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
        from = "+15551230001"
        reply_gap_ms = 1200
        [params]
        Tenant = "acme"
        [fixture]
        voice = "espeak:en-us+m3"
        [[turns]]
        wav = "callers/a.wav"
        text = "I was charged twice"
        [[turns]]
        dtmf = "12#"
        barge_in_ms = 800
        silence_after_ms = 500
        [expect]
        agents = ["triage", "billing"]
        outcome = "completed"
        must_not_say = ["transferring you"]
        max_first_reply_ms = 2500
        interrupted = true
    "#;

    #[test]
    fn parses_every_field_and_defaults() {
        let s = Scenario::parse(FULL, Path::new("fx/billing-twice.toml")).unwrap();
        assert_eq!(s.name, "billing-twice");
        assert_eq!(s.to, DEFAULT_TO);
        assert_eq!(s.reply_gap_ms, 1200);
        assert_eq!(s.reply_timeout_ms, DEFAULT_REPLY_TIMEOUT_MS);
        assert!(s.wait_for_greeting);
        assert_eq!(s.params["Tenant"], "acme");
        assert_eq!(s.turns.len(), 2);
        assert_eq!(s.turns[1].barge_in_ms, Some(800));
        assert_eq!(s.turns[1].dtmf.as_deref(), Some("12#"));
        assert_eq!(
            s.wav_path(&s.turns[0]),
            Some(PathBuf::from("fx/callers/a.wav"))
        );
        assert_eq!(s.wav_path(&s.turns[1]), None);
        assert_eq!(
            s.expect.agents,
            Some(vec!["triage".to_string(), "billing".to_string()])
        );
        assert_eq!(s.expect.interrupted, Some(true));
    }

    #[test]
    fn typos_and_bad_values_are_clear_errors() {
        let cases = [
            ("from = \"+1\"\n[expect]\nagent = [\"x\"]\n", "agent"),
            (
                "from = \"+1\"\n[[turns]]\ntext = \"hi\"\n",
                "neither `wav` nor `dtmf`",
            ),
            (
                "from = \"+1\"\n[[turns]]\ndtmf = \"1x\"\n",
                "not a DTMF digit",
            ),
            (
                "from = \"+1\"\n[expect]\noutcome = \"done\"\n",
                "not one of",
            ),
            ("to = \"+1\"\n", "from"),
        ];
        for (text, needle) in cases {
            let err = Scenario::parse(text, Path::new("bad.toml")).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(needle) && msg.contains("bad.toml"),
                "{text:?} → {msg}"
            );
        }
    }

    #[test]
    fn frames_are_padded_with_silence() {
        let frames = mulaw_frames(&[1u8; FRAME_BYTES + 3]);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1][..3], [1, 1, 1]);
        assert!(frames[1][3..].iter().all(|b| *b == MULAW_SILENCE));
    }

    #[test]
    fn discover_finds_toml_recursively_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.toml", "a.toml", "sub/c.toml", "x.wav"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let found = discover(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("a.toml"),
                PathBuf::from("b.toml"),
                PathBuf::from("sub/c.toml")
            ]
        );
        assert!(discover(&[dir.path().join("missing")]).is_err());
    }
}
