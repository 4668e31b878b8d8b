//! `EmbeddedBrain`: the [`Policy`] behind the `ChatModel` trait, streaming its
//! decisions exactly as an LLM would (text deltas, or tool-call deltas, then finish).

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream;

use super::embedder::Embedder;
use super::policy::{BrainConfig, Decision, Policy};
use super::spec::BrainSpec;
use crate::agents::model::{
    ChatEvent, ChatModel, ChatRequest, ChatStream, FinishReason, ModelError,
};

/// The offline, deterministic agent brain.
#[derive(Debug, Clone)]
pub struct EmbeddedBrain {
    embedder: Arc<Embedder>,
    policy: Arc<Policy>,
}

impl EmbeddedBrain {
    /// Builds the brain from every agent's `[brain]` table (agent name → table).
    pub fn new(
        embedder: Arc<Embedder>,
        brains: HashMap<String, toml::Value>,
        config: BrainConfig,
    ) -> Result<Self, ModelError> {
        let mut specs = HashMap::new();
        for (agent, value) in brains {
            let spec =
                BrainSpec::parse(&agent, &value).map_err(|e| ModelError::Config(e.to_string()))?;
            specs.insert(agent, spec);
        }
        let policy = Policy::new(&embedder, specs, config)?;
        Ok(Self {
            embedder,
            policy: Arc::new(policy),
        })
    }

    /// The policy (for evaluation and diagnostics).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The embedder.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// Decides synchronously (embedding runs on the calling thread).
    pub fn decide(&self, request: &ChatRequest) -> Result<Decision, ModelError> {
        self.policy.decide(&self.embedder, request)
    }
}

/// Turns a decision into the events an LLM would stream.
pub fn decision_events(decision: Decision, call_id: String) -> Vec<ChatEvent> {
    let mut events = Vec::new();
    match decision {
        Decision::Say(text) => {
            events.extend(text_deltas(&text));
            events.push(ChatEvent::Finish(FinishReason::Stop));
        }
        Decision::Call {
            say,
            name,
            arguments,
        } => {
            if let Some(text) = say {
                events.extend(text_deltas(&text));
            }
            let args = arguments.to_string();
            let mid = args
                .char_indices()
                .map(|(i, _)| i)
                .find(|&i| i >= args.len() / 2)
                .unwrap_or(0);
            events.push(ChatEvent::ToolCallDelta {
                index: 0,
                id: Some(call_id),
                name: Some(name),
                arguments: String::new(),
            });
            for part in [&args[..mid], &args[mid..]] {
                if !part.is_empty() {
                    events.push(ChatEvent::ToolCallDelta {
                        index: 0,
                        id: None,
                        name: None,
                        arguments: part.into(),
                    });
                }
            }
            events.push(ChatEvent::Finish(FinishReason::ToolCalls));
        }
    }
    events
}

/// Splits text into deltas of a few words each (whitespace kept, so they concatenate back).
fn text_deltas(text: &str) -> Vec<ChatEvent> {
    let mut out = Vec::new();
    let mut chunk = String::new();
    let mut words = 0;
    for piece in text.split_inclusive(' ') {
        chunk.push_str(piece);
        words += 1;
        if words == 3 {
            out.push(ChatEvent::TextDelta(std::mem::take(&mut chunk)));
            words = 0;
        }
    }
    if !chunk.is_empty() {
        out.push(ChatEvent::TextDelta(chunk));
    }
    out
}

#[async_trait::async_trait]
impl ChatModel for EmbeddedBrain {
    fn name(&self) -> String {
        "embedded".into()
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError> {
        let call_id = format!("call_{}_{}", request.agent, request.messages.len());
        let this = self.clone();
        let decision = tokio::task::spawn_blocking(move || this.decide(&request))
            .await
            .map_err(|e| ModelError::Other(format!("brain task failed: {e}")))??;
        let events = decision_events(decision, call_id);
        Ok(Box::pin(stream::iter(events.into_iter().map(Ok))))
    }
}
