//! History filters applied when one agent hands the call to another: drop tool
//! traffic, or replace old history with a deterministic summary note when it is
//! longer than the configured budget (keeping the last few turns verbatim).

use std::collections::HashMap;

use crate::agents::model::ChatMessage;

/// Filter names a `[[handoffs]]` entry may use as `input_filter`.
pub const KNOWN_FILTERS: &[&str] = &["remove_tools", "summary"];

/// Characters of history (content and tool arguments).
pub fn history_chars(history: &[ChatMessage]) -> usize {
    history
        .iter()
        .map(|m| match m {
            ChatMessage::System { content } | ChatMessage::User { content } => content.len(),
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => {
                content.as_ref().map_or(0, String::len)
                    + tool_calls
                        .iter()
                        .map(|t| t.name.len() + t.arguments.len())
                        .sum::<usize>()
            }
            ChatMessage::Tool { content, .. } => content.len(),
        })
        .sum()
}

/// Drop tool calls and tool results (assistant text is kept).
pub fn remove_tools(history: &[ChatMessage]) -> Vec<ChatMessage> {
    history
        .iter()
        .filter_map(|m| match m {
            ChatMessage::Tool { .. } => None,
            ChatMessage::Assistant {
                content,
                tool_calls,
            } if !tool_calls.is_empty() => {
                content
                    .as_ref()
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| ChatMessage::Assistant {
                        content: Some(c.clone()),
                        tool_calls: Vec::new(),
                    })
            }
            other => Some(other.clone()),
        })
        .collect()
}

/// Replace everything before the last `keep_turns` caller messages with one system
/// note "Conversation so far: …" of at most `max_chars`. Returns `None` if there is
/// nothing older to summarise.
pub fn summarize(
    history: &[ChatMessage],
    keep_turns: usize,
    max_chars: usize,
) -> Option<Vec<ChatMessage>> {
    let user_idx: Vec<usize> = history
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m, ChatMessage::User { .. }))
        .map(|(i, _)| i)
        .collect();
    let keep = keep_turns.max(1);
    let cut = if user_idx.len() > keep {
        user_idx[user_idx.len() - keep]
    } else {
        *user_idx.last().filter(|&&i| i > 0)?
    };
    let older = &history[..cut];
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut parts: Vec<String> = Vec::new();
    for m in older {
        match m {
            ChatMessage::User { content } => {
                parts.push(format!("The caller said \"{}\".", clip(content, 160)))
            }
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => {
                if let Some(c) = content.as_ref().filter(|c| !c.trim().is_empty()) {
                    parts.push(format!("We said \"{}\".", clip(c, 160)));
                }
                for t in tool_calls {
                    names.insert(&t.id, &t.name);
                }
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => {
                let name = names
                    .get(tool_call_id.as_str())
                    .copied()
                    .unwrap_or("a tool");
                if !name.starts_with("transfer_to_") {
                    parts.push(format!("{name} returned {}.", clip(content, 200)));
                }
            }
            ChatMessage::System { content } => {
                if content.starts_with("Conversation so far:") {
                    parts.push(clip(
                        content.trim_start_matches("Conversation so far:").trim(),
                        400,
                    ));
                } else if !content.starts_with("Handoff note:") {
                    parts.push(format!("Note: {}", clip(content, 300)));
                }
            }
        }
    }
    let mut note = String::from("Conversation so far:");
    // If the budget is tight, keep the caller's first words (usually the problem)
    // and the most recent facts; drop from the second part onwards.
    let mut total: usize = parts.iter().map(|p| p.len() + 1).sum();
    let first_kept = usize::from(
        parts
            .first()
            .is_some_and(|p| p.starts_with("The caller said")),
    );
    let mut drop_to = first_kept;
    while total + note.len() > max_chars && drop_to < parts.len() {
        total -= parts[drop_to].len() + 1;
        drop_to += 1;
    }
    let kept = parts[..first_kept].iter().chain(parts[drop_to..].iter());
    for (i, p) in kept.enumerate() {
        if i == first_kept && drop_to > first_kept {
            note.push_str(" (some details omitted)");
        }
        note.push(' ');
        note.push_str(p);
    }
    let mut out = vec![ChatMessage::System { content: note }];
    out.extend_from_slice(&history[cut..]);
    Some(out)
}

fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::model::ToolCall;

    fn sample() -> Vec<ChatMessage> {
        vec![
            ChatMessage::User {
                content: "My internet is slow".into(),
            },
            ChatMessage::Assistant {
                content: Some("Let me check.".into()),
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    name: "check_service_status".into(),
                    arguments: "{}".into(),
                }],
            },
            ChatMessage::Tool {
                tool_call_id: "c1".into(),
                content: "{\"all_ok\":true}".into(),
            },
            ChatMessage::Assistant {
                content: Some("All fine here.".into()),
                tool_calls: vec![],
            },
            ChatMessage::User {
                content: "Then change my plan".into(),
            },
        ]
    }

    #[test]
    fn remove_tools_keeps_text() {
        let out = remove_tools(&sample());
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|m| !matches!(m, ChatMessage::Tool { .. })));
    }

    #[test]
    fn summary_keeps_last_turn_verbatim() {
        let out = summarize(&sample(), 1, 1000).expect("summary");
        assert_eq!(out.len(), 2);
        let ChatMessage::System { content } = &out[0] else {
            panic!("no note")
        };
        assert!(content.starts_with("Conversation so far:"));
        assert!(content.contains("My internet is slow"));
        assert!(content.contains("check_service_status returned"));
        assert_eq!(
            out[1],
            ChatMessage::User {
                content: "Then change my plan".into()
            }
        );
        assert!(summarize(&sample()[..1], 1, 1000).is_none());
    }
}
