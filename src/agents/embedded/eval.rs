//! Routing evaluation of the embedded brain on held-out caller utterances
//! (`tests/fixtures/brain_eval.toml`): accuracy, per-agent accuracy, confusions and
//! time per decision.
//!
//! Each utterance is said to triage as the first caller turn, through the real
//! `decide` path with triage's handoff tools; the outcome is the agent that handles
//! it (`transfer_to_X` → X; a reply or own tool → triage; a clarifying question →
//! `clarify`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;
use serde_json::json;

use super::brain::EmbeddedBrain;
use super::policy::Decision;
use crate::agents::model::{ChatMessage, ChatRequest, ModelError, ToolSpec};

/// One held-out utterance and the agent that must handle it.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalCase {
    pub text: String,
    pub agent: String,
    /// Which batch of the file the case belongs to (batches were written at different
    /// stages of tuning; see the file's header).
    #[serde(default = "first_batch")]
    pub batch: u32,
}

fn first_batch() -> u32 {
    1
}

#[derive(Deserialize)]
struct EvalFile {
    cases: Vec<EvalCase>,
}

/// Reads an evaluation file (`cases = [{ text, agent }, ...]`).
pub fn load_cases(path: &Path) -> Result<Vec<EvalCase>, ModelError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))?;
    let file: EvalFile = toml::from_str(&text)
        .map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))?;
    Ok(file.cases)
}

/// One misrouted utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub text: String,
    pub expected: String,
    pub got: String,
}

/// The evaluation's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub total: usize,
    pub correct: usize,
    /// Fraction correct, 0..=1.
    pub accuracy: f64,
    /// Agent → (correct, total).
    pub per_agent: BTreeMap<String, (usize, usize)>,
    /// Batch → (correct, total).
    pub per_batch: BTreeMap<u32, (usize, usize)>,
    pub confusions: Vec<Confusion>,
    pub ms_p50: f64,
    pub ms_p95: f64,
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "| agent | correct | total | accuracy |")?;
        writeln!(f, "|---|---|---|---|")?;
        for (agent, (c, t)) in &self.per_agent {
            writeln!(
                f,
                "| {agent} | {c} | {t} | {:.1} % |",
                100.0 * *c as f64 / (*t).max(1) as f64
            )?;
        }
        writeln!(
            f,
            "| **all** | {} | {} | **{:.1} %** |",
            self.correct,
            self.total,
            100.0 * self.accuracy
        )?;
        writeln!(f)?;
        for (batch, (c, t)) in &self.per_batch {
            let pct = 100.0 * *c as f64 / (*t).max(1) as f64;
            writeln!(f, "batch {batch}: {c}/{t} = {pct:.1} %")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "ms per decision (embed + rank + policy): p50 {:.1}, p95 {:.1}",
            self.ms_p50, self.ms_p95
        )?;
        for c in &self.confusions {
            writeln!(
                f,
                "- \"{}\": expected {}, got {}",
                c.text, c.expected, c.got
            )?;
        }
        Ok(())
    }
}

fn tool(name: &str) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: String::new(),
        parameters: json!({"type": "object"}),
    }
}

/// The agent that ends up handling a first caller turn said to `triage`.
pub fn outcome(brain: &EmbeddedBrain, text: &str) -> Result<String, ModelError> {
    let tools = [
        "transfer_to_billing",
        "transfer_to_technical",
        "transfer_to_human",
        "lookup_customer",
        "end_call",
    ]
    .map(tool)
    .to_vec();
    let request = ChatRequest {
        agent: "triage".into(),
        model: "embedded".into(),
        messages: vec![ChatMessage::User {
            content: text.into(),
        }],
        tools,
        temperature: None,
    };
    Ok(match brain.decide(&request)? {
        Decision::Call { name, .. } => match name.strip_prefix("transfer_to_") {
            Some(target) => target.to_string(),
            None => "triage".into(),
        },
        Decision::Say(reply) => {
            let clarifying = brain.policy().is_clarification(&reply);
            if clarifying {
                "clarify".into()
            } else {
                "triage".into()
            }
        }
    })
}

/// Runs every case and reports accuracy and latency.
pub fn evaluate(brain: &EmbeddedBrain, cases: &[EvalCase]) -> Result<EvalReport, ModelError> {
    let mut per_agent: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut per_batch: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    let mut confusions = Vec::new();
    let mut times = Vec::with_capacity(cases.len());
    let mut correct = 0;
    for case in cases {
        let start = Instant::now();
        let got = outcome(brain, &case.text)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let entry = per_agent.entry(case.agent.clone()).or_default();
        entry.1 += 1;
        let batch = per_batch.entry(case.batch).or_default();
        batch.1 += 1;
        if got == case.agent {
            correct += 1;
            entry.0 += 1;
            batch.0 += 1;
        } else {
            confusions.push(Confusion {
                text: case.text.clone(),
                expected: case.agent.clone(),
                got,
            });
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(EvalReport {
        total: cases.len(),
        correct,
        accuracy: correct as f64 / cases.len().max(1) as f64,
        per_agent,
        per_batch,
        confusions,
        ms_p50: pct(0.5),
        ms_p95: pct(0.95),
    })
}
