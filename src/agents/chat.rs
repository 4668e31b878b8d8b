//! The text driver behind `switchboard chat`: an interactive REPL (type as the
//! caller) and a script runner that prints the trace as JSON.
//!
//! Script lines: plain text is speech with confidence 1.0; `[conf 0.3] text` sets
//! the STT confidence; `[dtmf 123]` presses keys; `[silence]` is a silent turn;
//! blank lines and `# comments` are skipped. Header comments `# caller: +1555…` and
//! `# expect-path: triage,billing` are read by [`script_meta`].

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use crate::agents::conversation::{CallerContext, Conversation};
use crate::agents::error::AgentError;
use crate::agents::events::{CallerInput, RunEvent};
use crate::agents::runner::Runtime;

/// Parse one script line; `None` for blank lines and comments.
pub fn parse_line(line: &str) -> Option<CallerInput> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let lower = line.to_ascii_lowercase();
    if lower == "[silence]" {
        return Some(CallerInput::Silence);
    }
    if let Some(rest) = lower.strip_prefix("[dtmf ") {
        let digits: String = rest
            .trim_end_matches(']')
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
            .collect();
        return Some(CallerInput::Dtmf { digits });
    }
    if lower.starts_with("[conf ") {
        if let Some(end) = line.find(']') {
            let conf = line[6..end]
                .trim()
                .parse::<f32>()
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            return Some(CallerInput::Speech {
                text: line[end + 1..].trim().to_string(),
                confidence: conf,
            });
        }
    }
    Some(CallerInput::text(line))
}

/// Header facts of a script file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptMeta {
    /// `# caller: +15551230001`
    pub caller: Option<String>,
    /// `# expect-path: triage,billing`
    pub expect_path: Option<Vec<String>>,
}

/// Read `# caller:` and `# expect-path:` comments from a script.
pub fn script_meta(text: &str) -> ScriptMeta {
    let mut meta = ScriptMeta::default();
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            continue;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "caller" if !value.is_empty() => meta.caller = Some(value.to_string()),
            "expect-path" => {
                meta.expect_path = Some(
                    value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            _ => {}
        }
    }
    meta
}

fn caller(call_id: &str, phone: Option<&str>) -> CallerContext {
    CallerContext {
        call_id: call_id.into(),
        phone: phone.map(str::to_string),
        params: Default::default(),
    }
}

/// The JSON report of a conversation: path, outcome, transcript and full trace.
pub fn report(conv: &Conversation) -> Value {
    json!({
        "call_id": conv.caller().call_id,
        "caller": conv.caller().caller_number(),
        "agents": conv.agents_path(),
        "outcome": conv.outcome(),
        "transcript": conv.transcript(),
        "trace": conv.trace(),
    })
}

/// Run scripted caller lines against a fresh conversation and return the report.
pub async fn run_script(
    runtime: &Runtime,
    caller_phone: Option<&str>,
    lines: &[String],
) -> Result<Value, AgentError> {
    let mut conv = runtime.start(caller("chat-script", caller_phone));
    let (tx, mut rx) = unbounded_channel();
    let cancel = CancellationToken::new();
    runtime.greet(&mut conv, &tx);
    for line in lines {
        let Some(input) = parse_line(line) else {
            continue;
        };
        if conv.is_over() {
            break;
        }
        let turn = conv.next_turn_id();
        runtime
            .run_turn(&mut conv, turn, input, &tx, &cancel)
            .await?;
        while rx.try_recv().is_ok() {}
    }
    Ok(report(&conv))
}

/// Interactive chat: read caller lines from `input`, print the agent's sentences as
/// they stream. `/trace` prints the trace JSON, `/quit` (or end of input) stops.
/// With `show_agents`, lines are tagged with the active agent and handoffs shown.
pub async fn run_repl<R, W>(
    runtime: &Runtime,
    caller_phone: Option<&str>,
    show_agents: bool,
    input: R,
    mut output: W,
) -> Result<Conversation, AgentError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let io = AgentError::Terminal;
    let mut conv = runtime.start(caller("chat-repl", caller_phone));
    let (tx, mut rx) = unbounded_channel();
    runtime.greet(&mut conv, &tx);
    while let Ok(ev) = rx.try_recv() {
        print_event(&mut output, &ev, show_agents)
            .await
            .map_err(io)?;
    }
    let mut lines = input.lines();
    let cancel = CancellationToken::new();
    loop {
        if conv.is_over() {
            break;
        }
        output.write_all(b"you> ").await.map_err(io)?;
        output.flush().await.map_err(io)?;
        let Some(line) = lines.next_line().await.map_err(io)? else {
            break;
        };
        match line.trim() {
            "/quit" | "/exit" => break,
            "/trace" => {
                let text = serde_json::to_string_pretty(&report(&conv)).unwrap_or_default();
                output
                    .write_all(format!("{text}\n").as_bytes())
                    .await
                    .map_err(io)?;
                continue;
            }
            _ => {}
        }
        let Some(turn_input) = parse_line(&line) else {
            continue;
        };
        let (tx, mut rx) = unbounded_channel();
        let turn_id = conv.next_turn_id();
        let conv_ref = &mut conv;
        let cancel_ref = &cancel;
        let turn = async move {
            let r = runtime
                .run_turn(conv_ref, turn_id, turn_input, &tx, cancel_ref)
                .await;
            drop(tx);
            r
        };
        let out_ref = &mut output;
        let printer = async move {
            while let Some(ev) = rx.recv().await {
                print_event(out_ref, &ev, show_agents).await?;
            }
            Ok::<(), std::io::Error>(())
        };
        let (r, p) = tokio::join!(turn, printer);
        r?;
        p.map_err(io)?;
    }
    if conv.outcome().is_none() {
        conv.mark_hangup();
    }
    output.flush().await.map_err(io)?;
    Ok(conv)
}

async fn print_event<W: AsyncWrite + Unpin>(
    out: &mut W,
    ev: &RunEvent,
    show_agents: bool,
) -> std::io::Result<()> {
    let line = match ev {
        RunEvent::Say { agent, text } if show_agents => format!("bot[{agent}]> {text}\n"),
        RunEvent::Say { text, .. } => format!("bot> {text}\n"),
        RunEvent::Handoff(h) if show_agents => {
            let refused = if h.refused { " REFUSED" } else { "" };
            format!(
                "  ~ handoff {} -> {} ({:?}: {}){refused}\n",
                h.from, h.to, h.trigger, h.reason
            )
        }
        RunEvent::ToolCall(t) if show_agents => {
            let refused = if t.refused { " REFUSED" } else { "" };
            format!(
                "  ~ tool {}.{}({}){refused}\n",
                t.agent, t.name, t.arguments
            )
        }
        RunEvent::Escalate { brief, .. } => format!("  ~ escalated to a person. Brief: {brief}\n"),
        RunEvent::EndCall => "  ~ call ended\n".to_string(),
        RunEvent::ModelSwitched(s) if show_agents => format!(
            "  ~ model {} failed ({}); {} answers\n",
            s.from, s.reason, s.to
        ),
        _ => return Ok(()),
    };
    out.write_all(line.as_bytes()).await?;
    out.flush().await
}
