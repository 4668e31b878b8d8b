//! Runtime tests with scripted models (one `ScriptedModel` per agent).

mod barge_in;
mod guards;
mod handoffs;
mod prompt_files;
mod tools;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use crate::agents::model::{ChatMessage, ChatModel, ChatRequest};
use crate::agents::prompts;
use crate::agents::testing::ScriptedModel;
use crate::agents::TurnId;
use crate::agents::{
    AgentSet, CallerContext, CallerInput, Conversation, RunEvent, Runtime, RuntimeConfig,
    TurnSummary,
};
use crate::store::Store;

pub(super) const DANA: &str = "+15551230001";
pub(super) const MARCUS: &str = "+15551230002";
pub(super) const TOM: &str = "+15551230004";

pub(super) fn agent_set() -> AgentSet {
    prompts::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts")).expect("prompts load")
}

/// A runtime over the real prompt files, one scripted model per agent.
pub(super) struct Harness {
    pub runtime: Runtime,
    pub models: HashMap<String, Arc<ScriptedModel>>,
    pub store: Store,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(RuntimeConfig::default())
    }

    pub fn with_config(config: RuntimeConfig) -> Self {
        let agents = agent_set();
        let store = Store::open_in_memory().expect("store");
        let mut models = HashMap::new();
        let mut dyn_models: HashMap<String, Arc<dyn ChatModel>> = HashMap::new();
        for name in agents.names() {
            let m = Arc::new(ScriptedModel::new(&name));
            dyn_models.insert(name.clone(), m.clone());
            models.insert(name, m);
        }
        let runtime = Runtime::new(agents, dyn_models, store.clone(), config).expect("runtime");
        Harness {
            runtime,
            models,
            store,
        }
    }

    pub fn model(&self, agent: &str) -> &ScriptedModel {
        self.models.get(agent).expect("model")
    }

    pub fn start(&self, phone: Option<&str>) -> Conversation {
        self.runtime.start(CallerContext {
            call_id: "CAtest".into(),
            phone: phone.map(str::to_string),
            params: Default::default(),
        })
    }

    pub async fn turn(
        &self,
        conv: &mut Conversation,
        input: CallerInput,
    ) -> (TurnSummary, Vec<RunEvent>) {
        let (tx, mut rx) = unbounded_channel();
        let id = conv.next_turn_id();
        let summary = self
            .runtime
            .run_turn(conv, id, input, &tx, &CancellationToken::new())
            .await
            .expect("turn");
        let mut events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        (summary, events)
    }

    pub async fn say(&self, conv: &mut Conversation, text: &str) -> (TurnSummary, Vec<RunEvent>) {
        self.turn(conv, CallerInput::text(text)).await
    }

    pub fn assert_consumed(&self) {
        for m in self.models.values() {
            m.assert_consumed();
        }
    }
}

/// The `Say` texts of some events.
pub(super) fn says(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Say { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// All system-message contents of a request.
pub(super) fn system_notes(req: &ChatRequest) -> Vec<String> {
    req.messages
        .iter()
        .filter_map(|m| match m {
            ChatMessage::System { content } => Some(content.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn tool_names(req: &ChatRequest) -> Vec<String> {
    req.tools.iter().map(|t| t.name.clone()).collect()
}

#[test]
fn runtime_is_shareable_and_turns_can_be_spawned() {
    fn is_send_sync<T: Send + Sync>(_: &T) {}
    fn is_send<T: Send>(_: T) {}
    let h = Harness::new();
    is_send_sync(&h.runtime);
    let mut conv = h.start(None);
    let (tx, _rx) = unbounded_channel();
    let cancel = CancellationToken::new();
    is_send(
        h.runtime
            .run_turn(&mut conv, TurnId(1), CallerInput::Silence, &tx, &cancel),
    );
}
mod brain_scripts;
mod conversations;
