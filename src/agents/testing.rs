//! Test support: `ScriptedModel`, a fake `ChatModel` that replays scripted replies
//! per agent, streams them like a real model (text in small deltas, tool-call
//! arguments in fragments), records every request, and checks that every script
//! was consumed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use crate::agents::model::{
    ChatEvent, ChatModel, ChatRequest, ChatStream, FinishReason, ModelError,
};

/// One scripted completion.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Reply with text (and optionally tool calls after it).
    Reply {
        text: String,
        calls: Vec<(String, Value)>,
    },
    /// Fail with an error.
    Fail(String),
    /// Stream this text, then hang forever (for cancellation tests).
    Hang(String),
}

/// A fake chat model driven by per-agent scripts.
pub struct ScriptedModel {
    name: String,
    scripts: Mutex<HashMap<String, VecDeque<Scripted>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl ScriptedModel {
    /// An empty model; `name` shows in traces.
    pub fn new(name: &str) -> Self {
        ScriptedModel {
            name: name.to_string(),
            scripts: Mutex::default(),
            requests: Mutex::default(),
        }
    }

    /// Queue a completion for `agent`.
    pub fn push(&self, agent: &str, step: Scripted) -> &Self {
        self.lock_scripts()
            .entry(agent.to_string())
            .or_default()
            .push_back(step);
        self
    }

    /// Queue a text reply.
    pub fn say(&self, agent: &str, text: &str) -> &Self {
        self.push(
            agent,
            Scripted::Reply {
                text: text.to_string(),
                calls: Vec::new(),
            },
        )
    }

    /// Queue one tool call (no text).
    pub fn call(&self, agent: &str, tool: &str, args: Value) -> &Self {
        self.push(
            agent,
            Scripted::Reply {
                text: String::new(),
                calls: vec![(tool.to_string(), args)],
            },
        )
    }

    /// Queue text followed by one tool call.
    pub fn say_then_call(&self, agent: &str, text: &str, tool: &str, args: Value) -> &Self {
        self.push(
            agent,
            Scripted::Reply {
                text: text.to_string(),
                calls: vec![(tool.to_string(), args)],
            },
        )
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Requests made on behalf of `agent`.
    pub fn requests_for(&self, agent: &str) -> Vec<ChatRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.agent == agent)
            .collect()
    }

    /// Scripts not yet consumed, per agent.
    pub fn remaining(&self) -> usize {
        self.lock_scripts().values().map(VecDeque::len).sum()
    }

    /// Panics if any scripted reply was not used.
    pub fn assert_consumed(&self) {
        let left: Vec<String> = self
            .lock_scripts()
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(a, q)| format!("{a}: {} left ({:?})", q.len(), q.front()))
            .collect();
        assert!(
            left.is_empty(),
            "{}: unconsumed scripts: {}",
            self.name,
            left.join("; ")
        );
    }

    fn lock_scripts(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Scripted>>> {
        self.scripts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn text_deltas(text: &str) -> Vec<Result<ChatEvent, ModelError>> {
    // Split after spaces so sentences arrive in several pieces.
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        cur.push(ch);
        if ch == ' ' && cur.len() >= 8 {
            out.push(Ok(ChatEvent::TextDelta(std::mem::take(&mut cur))));
        }
    }
    if !cur.is_empty() {
        out.push(Ok(ChatEvent::TextDelta(cur)));
    }
    out
}

#[async_trait::async_trait]
impl ChatModel for ScriptedModel {
    fn name(&self) -> String {
        format!("scripted:{}", self.name)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError> {
        let agent = request.agent.clone();
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
        let step = self
            .lock_scripts()
            .get_mut(&agent)
            .and_then(VecDeque::pop_front);
        let Some(step) = step else {
            return Err(ModelError::Other(format!(
                "{}: no scripted reply left for agent {agent}",
                self.name
            )));
        };
        match step {
            Scripted::Fail(msg) => Err(ModelError::Other(msg)),
            Scripted::Hang(text) => {
                let events = text_deltas(&text);
                Ok(stream::iter(events).chain(stream::pending()).boxed())
            }
            Scripted::Reply { text, calls } => {
                let mut events = text_deltas(&text);
                for (i, (name, args)) in calls.iter().enumerate() {
                    let args = args.to_string();
                    let mid = args
                        .char_indices()
                        .map(|(k, _)| k)
                        .nth(args.chars().count() / 2)
                        .unwrap_or(0);
                    events.push(Ok(ChatEvent::ToolCallDelta {
                        index: i,
                        id: Some(format!("call_{}_{i}", agent)),
                        name: Some(name.clone()),
                        arguments: args[..mid].to_string(),
                    }));
                    events.push(Ok(ChatEvent::ToolCallDelta {
                        index: i,
                        id: None,
                        name: None,
                        arguments: args[mid..].to_string(),
                    }));
                }
                let finish = if calls.is_empty() {
                    FinishReason::Stop
                } else {
                    FinishReason::ToolCalls
                };
                events.push(Ok(ChatEvent::Finish(finish)));
                Ok(stream::iter(events).boxed())
            }
        }
    }
}
