//! Per-call outputs: the JSON report, the one-line summary, and the stereo
//! recording (caller left, bot right, on the simulated playout timeline).

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::audio::frames::PHONE_RATE;
use crate::audio::mulaw::decode_to_f32;

use super::error::ReplayError;
use super::expect::{path, render_diff, Check, Line, RecordView};
use super::sim::{ClearStats, EndedBy, LineStats, SimResult, TurnStats};

/// One caller turn in the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnReport {
    /// What the caller said (from the scenario).
    pub text: Option<String>,
    pub wav: Option<String>,
    #[serde(flatten)]
    pub stats: TurnStats,
}

/// Everything known about one replayed call; written as `<name>.json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub scenario: String,
    pub file: String,
    pub description: String,
    pub passed: bool,
    /// Why the replay itself failed (no expectations were checked).
    pub error: Option<String>,
    pub speed: String,
    pub call_sid: String,
    pub from: String,
    pub ended_by: EndedBy,
    /// Simulated line time of the call.
    pub line_ms: u64,
    pub wall_ms: u64,
    pub agents: Vec<String>,
    pub outcome: Option<String>,
    pub handoffs: Vec<Value>,
    pub transcript: Vec<Line>,
    pub turns: Vec<TurnReport>,
    pub interruptions: Vec<ClearStats>,
    pub line: LineStats,
    pub checks: Vec<Check>,
    /// The stereo recording, relative to the report.
    pub recording: Option<String>,
    /// The call record as the server served it.
    pub record: Value,
}

impl Report {
    /// A report for a scenario that could not be replayed.
    pub fn failed(scenario: &str, file: &Path, speed: &str, error: String) -> Report {
        Report {
            scenario: scenario.to_string(),
            file: file.display().to_string(),
            description: String::new(),
            passed: false,
            error: Some(error),
            speed: speed.to_string(),
            call_sid: String::new(),
            from: String::new(),
            ended_by: EndedBy::None,
            line_ms: 0,
            wall_ms: 0,
            agents: Vec::new(),
            outcome: None,
            handoffs: Vec::new(),
            transcript: Vec::new(),
            turns: Vec::new(),
            interruptions: Vec::new(),
            line: LineStats::default(),
            checks: Vec::new(),
            recording: None,
            record: Value::Null,
        }
    }

    /// Fill in what the call record says.
    pub fn set_record(&mut self, record: Value) {
        let view = RecordView::from_json(&record);
        self.agents = view.agents.clone();
        self.outcome = view.outcome.clone();
        self.handoffs = view.handoffs();
        self.transcript = view.transcript.clone();
        self.record = record;
    }

    /// Reply latencies that were measured, in turn order.
    pub fn latencies(&self) -> Vec<u64> {
        self.turns
            .iter()
            .filter_map(|t| t.stats.latency_ms)
            .collect()
    }

    /// `PASS name  triage → billing  completed  3 turns  reply p50 … max …  line … wall …`.
    pub fn summary(&self) -> String {
        let status = match (&self.error, self.passed) {
            (Some(_), _) => "ERROR",
            (None, true) => "PASS ",
            (None, false) => "FAIL ",
        };
        if let Some(e) = &self.error {
            return format!("{status} {}: {e}", self.scenario);
        }
        let mut lat = self.latencies();
        lat.sort_unstable();
        let latency = match (lat.get(lat.len() / 2), lat.last()) {
            (Some(p50), Some(max)) => format!("reply p50 {p50} ms max {max} ms"),
            _ => "no replies".to_string(),
        };
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        let checks = if failed > 0 {
            format!("  {failed}/{} checks failed", self.checks.len())
        } else {
            String::new()
        };
        format!(
            "{status} {}  {}  {}  {} turns  {latency}  clears {}  line {:.1} s wall {:.1} s{checks}",
            self.scenario,
            path(&self.agents),
            self.outcome.as_deref().unwrap_or("(no outcome)"),
            self.turns.len(),
            self.interruptions.len(),
            self.line_ms as f64 / 1000.0,
            self.wall_ms as f64 / 1000.0,
        )
    }

    /// The summary plus, on failure, the expected-vs-actual diff.
    pub fn summary_with_diff(&self) -> String {
        let mut s = self.summary();
        let diff = render_diff(&self.checks);
        if !diff.is_empty() {
            s.push('\n');
            s.push_str(diff.trim_end());
        }
        s
    }
}

/// Write the caller (left) and the bot as heard (right) as 8 kHz 16-bit stereo.
pub fn write_recording(path: &Path, sim: &SimResult) -> Result<(), ReplayError> {
    let left = decode_to_f32(&sim.caller);
    let mut right = decode_to_f32(&sim.bot);
    right.resize(left.len(), 0.0);
    crate::audio::wav::write_wav_stereo(path, PHONE_RATE, &left, &right).map_err(|e| {
        ReplayError::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// Write the report as pretty JSON.
pub fn write_json(path: &Path, report: &Report) -> Result<(), ReplayError> {
    let err = |message: String| ReplayError::Output {
        path: path.to_path_buf(),
        message,
    };
    let text = serde_json::to_string_pretty(report).map_err(|e| err(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::frames::FRAME_BYTES;

    #[test]
    fn stereo_recording_keeps_caller_left_and_bot_right_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("call.wav");
        // Tick 0: caller speaks, bot silent; tick 1: caller silent, bot speaks.
        let mut caller = vec![0x10u8; FRAME_BYTES];
        caller.extend([0xFF; FRAME_BYTES]);
        let mut bot = vec![0xFFu8; FRAME_BYTES];
        bot.extend([0x90; FRAME_BYTES]);
        let sim = SimResult {
            caller,
            bot,
            turns: vec![],
            clears: vec![],
            stats: LineStats::default(),
            ended_by: EndedBy::Caller,
            line_ms: 40,
        };
        write_recording(&path, &sim).unwrap();
        let mut r = hound::WavReader::open(&path).unwrap();
        let spec = r.spec();
        assert_eq!((spec.channels, spec.sample_rate), (2, 8000));
        let s: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(s.len(), 4 * FRAME_BYTES);
        let (l0, r0) = (s[0], s[1]);
        let k = 2 * FRAME_BYTES; // first sample of tick 1
        let (l1, r1) = (s[k], s[k + 1]);
        assert!(l0.abs() > 1000 && r0.abs() < 10, "tick 0: {l0} {r0}");
        assert!(l1.abs() < 10 && r1.abs() > 1000, "tick 1: {l1} {r1}");
    }

    #[test]
    fn summary_lines() {
        let mut r = Report::failed("x", Path::new("x.toml"), "fast", "boom".into());
        assert_eq!(r.summary(), "ERROR x: boom");
        r.error = None;
        r.passed = true;
        r.agents = vec!["triage".into(), "billing".into()];
        r.outcome = Some("completed".into());
        r.turns = [Some(300), Some(100), None]
            .iter()
            .map(|l| TurnReport {
                text: None,
                wav: None,
                stats: TurnStats {
                    latency_ms: *l,
                    ..TurnStats::default()
                },
            })
            .collect();
        r.line_ms = 12_300;
        r.wall_ms = 4_000;
        assert_eq!(
            r.summary(),
            "PASS  x  triage → billing  completed  3 turns  reply p50 300 ms max 300 ms  clears 0  line 12.3 s wall 4.0 s"
        );
    }
}
