//! Another matter raised while ours is open: a turn that answers our question and then
//! turns to a separate matter ("So I'm already on the bottom one, fair enough.
//! Separate matter, mind. The internet's been slow…": the answer is said, and the
//! matter goes to the agent who serves it), a request made with a refusal ("No, don't
//! refund it. What I need is the March invoice"), and whether the caller's words go to
//! another agent or intent at all.

use super::*;
use crate::agents::confirm::spaced;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::ModelError;

/// What a turn says after it turns to a separate matter ("So I'm already on the
/// bottom one, fair enough. Separate matter, mind. The internet's been slow…"): the
/// sentences from the one that announces it, when one after the first does.
pub(super) fn separate_part(text: &str) -> Option<String> {
    let sentences: Vec<&str> = text
        .split_inclusive(['.', '?', '!', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let at = sentences.iter().skip(1).position(|s| {
        let said = spaced(s);
        super::requests::ENUMERATION
            .iter()
            .any(|e| said.contains(&format!(" {e} ")))
    })? + 1;
    Some(sentences[at..].join(" "))
}

impl Policy {
    /// Our answer to the question we had asked, then the separate matter the caller
    /// turned to in the same turn, when another agent serves it ("…fair enough.
    /// Separate matter, mind. The internet's been slow…"): the answer, then the
    /// handoff.
    pub(super) fn then_separate_matter(
        &self,
        embedder: &Embedder,
        t: &Turn,
        answer: Decision,
    ) -> Result<Decision, ModelError> {
        let Decision::Say(text) = &answer else {
            return Ok(answer);
        };
        let (Some(body), Some(rest)) = (
            super::history::without_anything_else(text),
            separate_part(t.user_text),
        ) else {
            return Ok(answer);
        };
        let agent = t.req.agent.as_str();
        let routing = self.pick(&self.rank_turn(embedder, &rest)?, |_| true);
        let (Some(owner), Some(best)) = (routing.owner, routing.best) else {
            return Ok(answer);
        };
        if owner == agent
            || owner == ANY
            || owner == HUMAN
            || !has_tool(&t.req.tools, &transfer(&owner))
        {
            return Ok(answer);
        }
        let reason = format!(
            "intent {} score {:.2}: a separate matter in the same turn belongs to {owner}",
            best.intent.name, best.score
        );
        Ok(serving::with_prefix(
            Some(&body),
            self.handoff(t, &owner, "intent", reason),
        ))
    }
}

impl Policy {
    /// A request made after a refusal of `declined` in the same turn: this agent's
    /// own (another intent, with a tool) is done after a short acknowledgement, one
    /// another agent serves is handed to it.
    pub(super) fn also_asked(
        &self,
        embedder: &Embedder,
        t: &Turn,
        declined: &str,
    ) -> Option<Decision> {
        if !confirm::makes_request(t.user_text) {
            return None;
        }
        let declined_tool = t
            .spec
            .intents
            .iter()
            .find(|i| i.name == declined)
            .and_then(|i| i.tool.as_deref());
        // What follows the refusal is the request ("No, I don't need the refund, the
        // outage was why I called" asks nothing of billing's refund).
        let clauses: Vec<&str> = t
            .user_text
            .split_inclusive(['.', ',', ';', '!', '?'])
            .collect();
        let after = clauses
            .iter()
            .rposition(|c| confirm::refuses(c))
            .map_or(t.user_text.to_string(), |i| clauses[i + 1..].concat());
        if !confirm::makes_request(t.user_text) {
            return None;
        }
        let routing = self.route_turn(embedder, &after).ok()?;
        // "No, that's all… oh wait, one more thing: can you email me my bill?" — a
        // request another agent serves goes to that agent.
        if let Some(owner) = routing.owner.as_deref().filter(|o| {
            *o != t.req.agent && *o != ANY && *o != HUMAN && has_tool(&t.req.tools, &transfer(o))
        }) {
            let best = routing.best.as_ref()?;
            let reason = format!(
                "intent {} score {:.2}: asked for with a refusal",
                best.intent.name, best.score
            );
            return Some(self.handoff(t, owner, "intent", reason));
        }
        // This agent's own request is read in the whole turn (a long turn is read by
        // its request sentence, which may come before the refusal's reasons).
        let routing = self.route_turn(embedder, t.user_text).ok()?;
        let best = routing
            .best
            .filter(|_| routing.owner.as_deref() == Some(&t.req.agent))?;
        let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
        if intent.name == declined
            || intent.tool.is_none()
            || intent.tool.as_deref() == declined_tool
        {
            return None;
        }
        let step = self.act(t, intent, None);
        Some(serving::with_prefix(Some(super::pending::LEFT_AS_IS), step))
    }

    /// True when the caller's words route confidently to another agent's intent.
    pub(super) fn routes_elsewhere(&self, embedder: &Embedder, t: &Turn) -> bool {
        self.route_turn(embedder, t.user_text)
            .map(|routing| {
                routing
                    .owner
                    .is_some_and(|o| o != t.req.agent && o != ANY && o != HUMAN)
            })
            .unwrap_or(false)
    }

    /// True when `text` routes confidently to `agent`'s intent `name`.
    pub(super) fn routes_to(
        &self,
        embedder: &Embedder,
        text: &str,
        agent: &str,
        name: &str,
    ) -> bool {
        self.route_turn(embedder, text)
            .map(|routing| {
                routing.owner.is_some()
                    && routing
                        .best
                        .is_some_and(|b| b.intent.agent == agent && b.intent.name == name)
            })
            .unwrap_or(false)
    }
}
