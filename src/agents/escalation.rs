//! The spoken-style brief handed to the person who takes an escalated call.

use crate::agents::conversation::Conversation;
use crate::store::customers::Customer;

/// A short brief: who is calling, what they want, what was done, why a person.
pub fn brief(conv: &Conversation, customer: Option<&Customer>, reason: &str) -> String {
    let mut parts = Vec::new();
    match (customer, conv.caller.caller_number()) {
        (Some(c), _) => parts.push(format!(
            "{} is on the line, {} plan, account {}.",
            c.name,
            c.plan.name,
            c.status.replace('_', " ")
        )),
        (None, Some(n)) => parts.push(format!(
            "A caller from {n} is on the line; no account found yet."
        )),
        (None, None) => parts.push("A caller is on the line; number unknown.".to_string()),
    }
    let caller_lines: Vec<&str> = conv
        .transcript
        .iter()
        .filter(|e| e.speaker == "caller" && !e.text.starts_with('['))
        .map(|e| e.text.as_str())
        .collect();
    if let Some(first) = caller_lines.first() {
        parts.push(format!("They said: \"{}\".", clip(first, 140)));
    }
    if caller_lines.len() > 1 {
        if let Some(last) = caller_lines.last() {
            parts.push(format!("Most recently: \"{}\".", clip(last, 140)));
        }
    }
    let mut done: Vec<String> = Vec::new();
    for t in conv
        .trace
        .tool_calls
        .iter()
        .filter(|t| !t.refused && !t.name.starts_with("transfer_to_"))
    {
        let what = t.name.replace('_', " ");
        if !done.contains(&what) {
            done.push(what);
        }
    }
    if !done.is_empty() {
        parts.push(format!("Already done: {}.", done.join(", ")));
    }
    parts.push(format!(
        "Handed over because: {}.",
        reason.trim_end_matches('.')
    ));
    parts.join(" ")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}
