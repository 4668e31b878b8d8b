//! Handoffs as data: every `[[handoffs]]` entry becomes a `transfer_to_<target>`
//! tool the model can call; its arguments say why (reason) and which trigger fired.

use serde_json::{json, Value};

use crate::agents::model::ToolSpec;
use crate::agents::spec::{AgentSet, AgentSpec, HandoffSpec, HUMAN};
use crate::agents::tools;
use crate::agents::trace::Trigger;

/// Default description of `transfer_to_human`.
const HUMAN_DESCRIPTION: &str =
    "a person from the support staff, for callers who ask for a human, are upset, \
     or whose problem cannot be solved on this call";

/// The tool spec of one handoff.
pub fn handoff_tool(handoff: &HandoffSpec, agents: &AgentSet) -> ToolSpec {
    let description = handoff.description.clone().unwrap_or_else(|| {
        let target_desc = if handoff.target == HUMAN {
            HUMAN_DESCRIPTION.to_string()
        } else {
            agents
                .get(&handoff.target)
                .map(|a| a.description.clone())
                .unwrap_or_default()
        };
        format!(
            "Hand the conversation to the {} agent: {}",
            handoff.target, target_desc
        )
    });
    ToolSpec {
        name: handoff.tool_name(),
        description,
        parameters: json!({
            "type": "object",
            "properties": {
                "reason": {"type": "string", "description": "Why, in a few words (for the trace; never said to the caller)"},
                "trigger": {
                    "type": "string",
                    "enum": ["intent", "capability", "confidence", "escalation"],
                    "description": "intent: the topic is theirs; capability: they own the needed tool; confidence: you cannot understand the caller; escalation: complexity, loops, or the caller asked"
                }
            },
            "required": ["reason", "trigger"],
            "additionalProperties": false
        }),
    }
}

/// All tools an agent's model is offered: its own tools, then its handoffs.
pub fn agent_tools(agent: &AgentSpec, agents: &AgentSet) -> Vec<ToolSpec> {
    agent
        .tools
        .iter()
        .filter_map(|t| tools::spec(t))
        .chain(agent.handoffs.iter().map(|h| handoff_tool(h, agents)))
        .collect()
}

/// The handoff target named by a tool, if it is a transfer tool.
pub fn transfer_target(tool_name: &str) -> Option<&str> {
    tool_name
        .strip_prefix("transfer_to_")
        .filter(|t| !t.is_empty())
}

/// Trigger and reason from a transfer tool's arguments, with defaults
/// (escalation for `human`, intent otherwise).
pub fn parse_args(target: &str, args: &Value) -> (Trigger, String) {
    let default = if target == HUMAN {
        Trigger::Escalation
    } else {
        Trigger::Intent
    };
    let trigger = args
        .get("trigger")
        .and_then(Value::as_str)
        .and_then(Trigger::parse)
        .unwrap_or(default);
    let reason = args
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("no reason given")
        .to_string();
    (trigger, reason)
}

/// The system note the receiving agent gets.
pub fn handoff_note(from: &str, to: &str, reason: &str) -> String {
    format!(
        "Handoff note: you ({to}) are now the one speaking with the caller; {from} was helping before (reason: {reason}). \
         The caller must not notice any change: do not greet them again, do not mention a transfer, team or department, \
         and do not repeat what was already said. Continue from the caller's latest message."
    )
}
