//! A turn that answers our question and then turns to a separate matter ("So I'm
//! already on the bottom one, fair enough. Separate matter, mind. The internet's been
//! slow…"): the answer is said, and the matter goes to the agent who serves it.

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
