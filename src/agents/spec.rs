//! Agent specifications as loaded from `prompts/`: the data the runtime and the
//! chat models (including the embedded brain) work from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agents::error::AgentError;

/// The pseudo-agent a `transfer_to_human` handoff escalates to.
pub const HUMAN: &str = "human";

pub use crate::agents::providers::{ModelSpec, Provider};

/// One `[[handoffs]]` entry: the agent may hand the call to `target`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSpec {
    /// Another agent's name, or `human`.
    pub target: String,
    /// Overrides the default `transfer_to_<target>` tool description.
    #[serde(default)]
    pub description: Option<String>,
    /// Hook run before the target speaks (see `agents::hooks`).
    #[serde(default)]
    pub on_handoff: Option<String>,
    /// History filter applied when handing over (see `agents::filters`).
    #[serde(default)]
    pub input_filter: Option<String>,
}

impl HandoffSpec {
    /// The tool name the model calls to take this handoff.
    pub fn tool_name(&self) -> String {
        transfer_tool_name(&self.target)
    }
}

/// `transfer_to_<target>`.
pub fn transfer_tool_name(target: &str) -> String {
    format!("transfer_to_{target}")
}

/// One agent: who it is, which model serves it, what it may do.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec {
    pub name: String,
    /// One line; used in other agents' handoff tool descriptions.
    pub description: String,
    pub model: ModelSpec,
    pub handoffs: Vec<HandoffSpec>,
    /// Names of the tools this agent owns.
    pub tools: Vec<String>,
    /// Opaque `[brain]` table for the embedded brain (an empty table if absent).
    pub brain: toml::Value,
    /// Words and phrases callers use in this agent's domain ("refund", "webhook").
    /// The voice layer primes speech recognition with them; the runtime ignores them.
    pub vocabulary: Vec<String>,
    /// The markdown body: this agent's instructions.
    pub instructions: String,
    /// The file it came from (for error messages).
    pub source: String,
}

impl AgentSpec {
    /// The handoff to `target`, if this agent has one.
    pub fn handoff(&self, target: &str) -> Option<&HandoffSpec> {
        self.handoffs.iter().find(|h| h.target == target)
    }

    /// Whether the agent owns the tool `name`.
    pub fn owns_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t == name)
    }
}

/// All agents plus the shared persona.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSet {
    /// The brand voice (`persona.md`), composed into every system prompt.
    pub persona: String,
    agents: BTreeMap<String, AgentSpec>,
}

impl AgentSet {
    /// Build a set; names must be unique (the loader validates everything else).
    pub fn new(persona: String, agents: Vec<AgentSpec>) -> Result<Self, AgentError> {
        let mut map = BTreeMap::new();
        for a in agents {
            if let Some(prev) = map.get(&a.name) {
                let prev: &AgentSpec = prev;
                return Err(AgentError::prompt(
                    a.source.clone(),
                    format!(
                        "duplicate agent name `{}` (already defined in {})",
                        a.name, prev.source
                    ),
                ));
            }
            map.insert(a.name.clone(), a);
        }
        Ok(AgentSet {
            persona,
            agents: map,
        })
    }

    /// The agent called `name`.
    pub fn get(&self, name: &str) -> Option<&AgentSpec> {
        self.agents.get(name)
    }

    /// All agents, by name.
    pub fn agents(&self) -> impl Iterator<Item = &AgentSpec> {
        self.agents.values()
    }

    /// Agent names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }

    /// Every agent's vocabulary, in agent-name order, without repeats (case-insensitive).
    pub fn vocabulary(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.agents
            .values()
            .flat_map(|a| a.vocabulary.iter())
            .map(|w| w.trim())
            .filter(|w| !w.is_empty() && seen.insert(w.to_lowercase()))
            .map(str::to_string)
            .collect()
    }

    /// The full system prompt of an agent: persona, then its instructions.
    pub fn system_prompt(&self, name: &str) -> Option<String> {
        let a = self.get(name)?;
        Some(format!(
            "{}\n\n# Your role: {}\n\n{}",
            self.persona.trim(),
            a.name,
            a.instructions.trim()
        ))
    }
}
