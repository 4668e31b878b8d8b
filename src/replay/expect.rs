//! Expectations: compares a scenario's `[expect]` table with the call record
//! the server kept and what the simulated phone measured, and renders a
//! readable expected-vs-actual diff for the checks that failed.

use serde::Serialize;
use serde_json::Value;

use super::scenario::Expect;
use super::sim::SimResult;

/// One line of the call transcript, as `GET /calls/{callSid}` serves it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Line {
    pub speaker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub text: String,
    pub interrupted: bool,
}

/// The parts of a call record the checks need (parsed leniently from JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordView {
    pub agents: Vec<String>,
    pub outcome: Option<String>,
    pub transcript: Vec<Line>,
    pub frames_in: Option<u64>,
    pub trace: Value,
}

impl RecordView {
    /// Read the fields of a call record; missing ones stay empty.
    pub fn from_json(v: &Value) -> RecordView {
        let agents = v["agents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let transcript = v["transcript"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|l| Line {
                        speaker: l["speaker"].as_str().unwrap_or("").to_string(),
                        agent: l["agent"].as_str().map(str::to_string),
                        text: l["text"].as_str().unwrap_or("").to_string(),
                        interrupted: l["interrupted"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        RecordView {
            agents,
            outcome: v["outcome"].as_str().map(str::to_string),
            transcript,
            frames_in: v["framesIn"].as_u64(),
            trace: v["trace"].clone(),
        }
    }

    /// Lines the bot said.
    pub fn agent_lines(&self) -> impl Iterator<Item = &Line> {
        self.transcript.iter().filter(|l| l.speaker != "caller")
    }

    /// Handoffs recorded in the trace: `trace.handoffs`, or the trace's events
    /// (`trace.events`/`trace.spans`) whose `kind`/`type` is `handoff`.
    pub fn handoffs(&self) -> Vec<Value> {
        if let Some(h) = self.trace["handoffs"].as_array() {
            return h.clone();
        }
        ["events", "spans", "steps"]
            .iter()
            .filter_map(|k| self.trace[*k].as_array())
            .flatten()
            .filter(|e| {
                ["kind", "type", "event"]
                    .iter()
                    .any(|k| e[*k].as_str() == Some("handoff"))
            })
            .cloned()
            .collect()
    }
}

/// One checked expectation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// Which expectation (`agents`, `must_say "refund"`, …).
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

fn check(name: impl Into<String>, expected: String, actual: String, ok: bool) -> Check {
    Check {
        name: name.into(),
        expected,
        actual,
        ok,
    }
}

/// Lower-case, typographic apostrophes folded, whitespace collapsed.
fn norm(s: &str) -> String {
    s.to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `a → b → c`, or `(none)`.
pub fn path(agents: &[String]) -> String {
    if agents.is_empty() {
        "(none)".into()
    } else {
        agents.join(" → ")
    }
}

/// Evaluate every expectation that is set.
pub fn evaluate(expect: &Expect, record: &RecordView, sim: &SimResult) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(agents) = &expect.agents {
        out.push(check(
            "agents",
            path(agents),
            path(&record.agents),
            *agents == record.agents,
        ));
    }
    if let Some(outcome) = &expect.outcome {
        let actual = record.outcome.clone().unwrap_or_else(|| "(none)".into());
        out.push(check(
            "outcome",
            outcome.clone(),
            actual.clone(),
            *outcome == actual,
        ));
    }
    let lines: Vec<(&Line, String)> = record.agent_lines().map(|l| (l, norm(&l.text))).collect();
    for phrase in &expect.must_say {
        let p = norm(phrase);
        let hit = lines.iter().find(|(_, t)| t.contains(&p));
        out.push(check(
            format!("must_say {phrase:?}"),
            format!("an agent line containing {phrase:?}"),
            match hit {
                Some((l, _)) => format!("said: {:?}", l.text),
                None => format!("not said in {} agent lines", lines.len()),
            },
            hit.is_some(),
        ));
    }
    for phrase in &expect.must_not_say {
        let p = norm(phrase);
        let hit = lines.iter().find(|(_, t)| t.contains(&p));
        out.push(check(
            format!("must_not_say {phrase:?}"),
            format!("no agent line containing {phrase:?}"),
            match hit {
                Some((l, _)) => format!("said: {:?}", l.text),
                None => "not said".into(),
            },
            hit.is_none(),
        ));
    }
    if let Some(budget) = expect.max_first_reply_ms {
        let mut worst = Vec::new();
        let mut ok = true;
        for t in &sim.turns {
            match t.latency_ms {
                Some(ms) if ms <= budget => worst.push(format!("turn {}: {ms} ms", t.index + 1)),
                Some(ms) => {
                    ok = false;
                    worst.push(format!("turn {}: {ms} ms (over)", t.index + 1));
                }
                None => {
                    ok = false;
                    worst.push(format!("turn {}: no reply", t.index + 1));
                }
            }
        }
        out.push(check(
            "max_first_reply_ms",
            format!("every reply within {budget} ms"),
            if worst.is_empty() {
                "no turns".into()
            } else {
                worst.join(", ")
            },
            ok,
        ));
    }
    if let Some(want) = expect.interrupted {
        let hit = lines.iter().find(|(l, _)| l.interrupted);
        out.push(check(
            "interrupted",
            if want {
                "an agent line interrupted by the caller".into()
            } else {
                "no agent line interrupted".into()
            },
            match hit {
                Some((l, _)) => format!("interrupted: {:?}", l.text),
                None => format!("none of {} agent lines interrupted", lines.len()),
            },
            hit.is_some() == want,
        ));
    }
    if let Some(min) = expect.min_bot_audio_ms {
        let heard = sim.stats.bot_bytes_played / 8;
        out.push(check(
            "min_bot_audio_ms",
            format!("at least {min} ms of bot audio heard"),
            format!("{heard} ms"),
            heard >= min,
        ));
    }
    out
}

/// The failed checks as an indented expected/actual diff (empty when all passed).
pub fn render_diff(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks.iter().filter(|c| !c.ok) {
        s.push_str(&format!(
            "    {}\n      - expected: {}\n      + actual:   {}\n",
            c.name, c.expected, c.actual
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::sim::{EndedBy, LineStats, TurnStats};
    use serde_json::json;

    fn record() -> RecordView {
        RecordView::from_json(&json!({
            "agents": ["triage", "billing"],
            "outcome": "completed",
            "framesIn": 12,
            "transcript": [
                {"speaker": "agent", "agent": "triage", "text": "Hello, how can I help?", "interrupted": false},
                {"speaker": "caller", "text": "I was charged twice, transferring you", "interrupted": false},
                {"speaker": "agent", "agent": "billing", "text": "I\u{2019}ve  issued a REFUND of $12.", "interrupted": true}
            ],
            "trace": {"events": [{"kind": "handoff", "from": "triage", "to": "billing"}, {"kind": "tool"}]}
        }))
    }

    fn sim(latencies: &[Option<u64>]) -> SimResult {
        SimResult {
            caller: vec![],
            bot: vec![],
            turns: latencies
                .iter()
                .enumerate()
                .map(|(index, l)| TurnStats {
                    index,
                    latency_ms: *l,
                    ..TurnStats::default()
                })
                .collect(),
            clears: vec![],
            stats: LineStats {
                bot_bytes_played: 8000,
                ..LineStats::default()
            },
            ended_by: EndedBy::Caller,
            line_ms: 0,
        }
    }

    #[test]
    fn matching_expectations_pass() {
        let expect = Expect {
            agents: Some(vec!["triage".into(), "billing".into()]),
            outcome: Some("completed".into()),
            must_say: vec!["i've issued a refund".into()],
            must_not_say: vec!["transferring you".into()],
            max_first_reply_ms: Some(1000),
            interrupted: Some(true),
            min_bot_audio_ms: Some(1000),
        };
        let checks = evaluate(&expect, &record(), &sim(&[Some(900)]));
        assert_eq!(checks.len(), 7);
        assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
        assert_eq!(render_diff(&checks), "");
        assert_eq!(record().handoffs().len(), 1);
        assert_eq!(record().frames_in, Some(12));
    }

    #[test]
    fn wrong_expectations_fail_with_a_clear_diff() {
        let expect = Expect {
            agents: Some(vec!["triage".into(), "technical".into()]),
            outcome: Some("escalated".into()),
            must_say: vec!["password".into()],
            must_not_say: vec!["refund".into()],
            max_first_reply_ms: Some(500),
            interrupted: Some(false),
            min_bot_audio_ms: Some(5000),
        };
        let checks = evaluate(&expect, &record(), &sim(&[Some(900), None]));
        assert!(checks.iter().all(|c| !c.ok), "{checks:#?}");
        let diff = render_diff(&checks);
        for needle in [
            "agents\n      - expected: triage → technical\n      + actual:   triage → billing",
            "outcome\n      - expected: escalated\n      + actual:   completed",
            "must_say \"password\"",
            "not said in 2 agent lines",
            "said: \"I\u{2019}ve  issued a REFUND of $12.\"",
            "turn 1: 900 ms (over), turn 2: no reply",
            "interrupted: \"I\u{2019}ve",
            "+ actual:   1000 ms",
        ] {
            assert!(diff.contains(needle), "missing {needle:?} in\n{diff}");
        }
    }

    #[test]
    fn caller_lines_do_not_count_as_said() {
        let expect = Expect {
            must_not_say: vec!["transferring you".into()],
            ..Expect::default()
        };
        assert!(evaluate(&expect, &record(), &sim(&[]))[0].ok);
        let empty = RecordView::from_json(&json!({}));
        assert_eq!(path(&empty.agents), "(none)");
        assert!(empty.handoffs().is_empty());
    }
}
