//! Steps already done in this call, asked about again: the same request again ("and
//! the bill, you're texting that?") or a short question about one ("And the bill?"
//! right after it was sent) gets that step's `again` line instead of a second call; a
//! request to have it logged ("log it", "leave a note for whoever handles it") right
//! after its ticket was opened is told it is logged, with its number; and a question
//! about the step just taken ("how long have I got?") is answered from its result.

use serde_json::Value;

use super::*;
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::ModelError;

impl Policy {
    /// Asked about something already done in this call ("and the bill, you're texting
    /// that?"), or a problem that persists right after its ticket was opened
    /// (`persisting`): say so (`again`) instead of doing it twice. Asking for it again in so many words
    /// ("send it again", "I didn't get it") does it again.
    pub(super) fn already_done(
        &self,
        embedder: &Embedder,
        t: &Turn,
        intent: &IntentSpec,
    ) -> Option<Decision> {
        let again = intent.again.as_deref()?;
        let tool = intent.tool.as_deref()?;
        let words = confirm::words(t.user_text);
        // "Send it again" asks for it again; "I'm not touching it again" does not.
        let redo = t.user_text.split(['.', ',', ';', '!', '?']).any(|clause| {
            let ws = confirm::words(clause);
            let negated = ws.iter().any(|w| confirm::negates(w));
            !negated
                && ws
                    .iter()
                    .any(|w| matches!(w.as_str(), "again" | "resend" | "another"))
        }) || [
            "didn't get",
            "haven't got",
            "not received",
            "never got",
            "didn't come",
            "didn't arrive",
            "never came",
            "never arrived",
            "hasn't arrived",
            "resend",
        ]
        .iter()
        .any(|p| t.user_text.to_lowercase().contains(p))
            || self.names_other_option(t, intent, tool);
        let done = super::done_steps::done_before(t, tool);
        let said = said_before(&t.req.messages, again);
        // "I already tried that, it still whines" right after its ticket was opened:
        // the ticket covers it; a second one would not help. The same problem told
        // again with "still" counts too; another one ("the app still crashes") does not.
        if !said {
            if let Some(args) =
                super::caller_turn::last_tool_call(&t.req.messages[..t.user_idx], tool)
            {
                let persists = [
                    " still ",
                    " already tried ",
                    " already did ",
                    " didn't help ",
                ]
                .iter()
                .any(|p| confirm::spaced_words(&words).contains(p));
                let same_problem = || {
                    let summary: Value = serde_json::from_str(&args).unwrap_or_default();
                    let summary = summary["summary"].as_str().unwrap_or_default();
                    let name = &intent.name;
                    !summary.is_empty() && self.routes_to(embedder, summary, &t.req.agent, name)
                };
                // (Details told right after the ticket was opened — "Cables are all
                // snug, nothing loose." — add to it; they open no second one.)
                let since = super::history::since_callers_last_turn(&t.req.messages[..t.user_idx]);
                let just_opened = super::history::called(since, tool);
                let adds_details = just_opened
                    && !t.user_text.contains('?')
                    && !confirm::makes_request(t.user_text);
                if intent.persisting || (persists && same_problem()) || adds_details {
                    return Some(Decision::Say(again.into()));
                }
            }
        }
        (done && !redo && !said && t.user_text.contains('?')).then(|| Decision::Say(again.into()))
    }

    /// A short question that asks nothing new ("And the bill?") when one of the
    /// intents it may mean (this agent's, among the best three) had its step done in
    /// this call: that intent's `again` line.
    pub(super) fn asks_about_step_done(
        &self,
        embedder: &Embedder,
        t: &Turn,
    ) -> Result<Option<Decision>, ModelError> {
        // (One short question, the rest of the turn asking nothing: "One until three,
        // so I'll be out cold anyway. And the bill?")
        let sentences = super::history::sentences(t.user_text);
        let questions: Vec<&&str> = sentences.iter().filter(|s| s.ends_with('?')).collect();
        let [question] = questions.as_slice() else {
            return Ok(None);
        };
        if confirm::words(question).len() > 6 || confirm::makes_request(t.user_text) {
            return Ok(None);
        }
        let ranked = self.rank_turn(embedder, question)?;
        Ok(ranked.iter().take(3).find_map(|s| {
            let intent = &self.brains[&s.intent.agent].intents[s.intent.index];
            let tool = intent.tool.as_deref()?;
            // (Only an intent the question is near: a tenth under the routing floor.)
            let near = s.score >= self.config.min_score - 0.1;
            (near && s.intent.owner == t.req.agent && done_before(t, tool))
                .then(|| intent.again.clone())
                .flatten()
                .map(Decision::Say)
        }))
    }
}

/// Asking to have it logged or looked into, in words that point back at what was
/// reported ("log it", "look into it"), right after its ticket was opened (since the
/// caller's turn before): said to be logged, with its number. A new problem, or
/// "another" one, is not this.
pub(super) fn logged_already(t: &Turn) -> Option<Decision> {
    const LOG_ASKS: &[&str] = &[
        "log it",
        "log this",
        "log that",
        "report it",
        "look into it",
        "looks into it",
        "looks into where",
        "look into where",
        "make a note",
        "note it",
        "write it up",
        "write it down",
        "raise it",
        "flag it",
        "leave a note",
        "a note for",
        "put it down",
        "put that down",
        "someone to look into",
        "somebody to look into",
    ];
    let ws = confirm::words(t.user_text);
    if !confirm::says_any(t.user_text, LOG_ASKS)
        || ws
            .iter()
            .any(|w| matches!(w.as_str(), "another" | "new" | "also" | "too"))
    {
        return None;
    }
    // (Its ticket opened since the caller's turn before this one: what "it" is.)
    let since = super::history::since_callers_last_turn(&t.req.messages[..t.user_idx]);
    let (_, _, content) = super::history::results_newest_first(since)
        .find(|(name, _, content)| name == "open_ticket" && !is_error(content))?;
    let result: Value = serde_json::from_str(content).ok()?;
    let id = result.get("ticket_id")?;
    let follow_up = result
        .get("follow_up")
        .and_then(Value::as_str)
        .unwrap_or("soon");
    Some(Decision::Say(format!(
        "Yes, that's logged as request {id}, and the team will follow up {follow_up}, as I said. Anything else?"
    )))
}

/// Whether `tool` was called in this call and did not fail.
pub(super) fn done_before(t: &Turn, tool: &str) -> bool {
    super::history::results_newest_first(&t.req.messages)
        .any(|(name, _, content)| name == tool && !is_error(content))
}

/// A question about the step we just took ("How long have I got before this one goes
/// stale?" right after a reset link was sent; "how long till it reaches the card?"
/// after a refund): the answer that step's intent gives to that question while it is
/// open (`answers`), else, for a question of time, what the result says of it (when
/// a refund arrives, how long a link lasts, when the team follows up). Only a
/// question, asking for nothing new, right after the step (since the caller's turn
/// before). The answer alone: the caller says what comes after it.
pub(super) fn about_step_just_done(t: &Turn) -> Option<String> {
    if !t.user_text.contains('?') || confirm::makes_request(t.user_text) {
        return None;
    }
    let since = super::history::since_callers_last_turn(&t.req.messages[..t.user_idx]);
    let (tool, _, content) =
        super::history::results_newest_first(since).find(|(_, _, content)| !is_error(content))?;
    // (About that step: "it", "that", or its own thing — not "when is my next bill
    // due?" after a ticket, nor "how long does a refund take?" after a reset link.)
    if !asks_about(t.user_text, &tool) {
        return None;
    }
    let answer = t
        .spec
        .intents
        .iter()
        .filter(|i| i.tool.as_deref() == Some(tool.as_str()))
        .flat_map(|i| &i.answers)
        .find(|a| {
            let asked: Vec<&str> = a.asked.iter().map(String::as_str).collect();
            confirm::says_any(t.user_text, &asked)
        });
    if let Some(answer) = answer {
        return Some(answer.text.clone());
    }
    const WHEN: &[&str] = &[
        "how long",
        "how soon",
        "when will",
        "when does",
        "when do",
        "till it",
        "until it",
        "when should",
    ];
    if !confirm::says_any(t.user_text, WHEN) {
        return None;
    }
    let result: Value = serde_json::from_str(content).ok()?;
    let field = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(arrives) = field("arrives") {
        let to = field("to").unwrap_or_else(|| "you".into());
        // (Not our report's own words again: the repeat guard would drop them.)
        return Some(format!("The refund should reach {to} {arrives}."));
    }
    if let Some(valid) = field("expires_in") {
        return Some(format!("The link stays valid for {valid} after it's sent."));
    }
    field("follow_up").map(|f| format!("Someone from the team will be in touch {f}."))
}

/// What a step is called by a caller, for the tools whose result a question may ask
/// about.
fn step_words(tool: &str) -> &'static [&'static str] {
    match tool {
        "issue_refund" => &["refund", "money", "card", "account"],
        "reset_password" => &["link", "reset", "password", "email", "text"],
        "open_ticket" => &[
            "ticket",
            "request",
            "technician",
            "engineer",
            "team",
            "someone",
            "somebody",
        ],
        "send_invoice" => &["bill", "invoice", "copy", "email", "text"],
        _ => &[],
    }
}

/// The question is about the step `tool` took: it points back ("it", "that", "this",
/// "one") or names the step's own thing, and names no other step's thing.
fn asks_about(text: &str, tool: &str) -> bool {
    let ws = confirm::words(text);
    let own = step_words(tool);
    let names_own = ws.iter().any(|w| own.contains(&w.as_str()));
    let points_back = ws.iter().any(|w| {
        matches!(
            w.as_str(),
            "it" | "that" | "this" | "one" | "it's" | "that's"
        )
    });
    let names_other = [
        "issue_refund",
        "reset_password",
        "open_ticket",
        "send_invoice",
    ]
    .iter()
    .filter(|other| **other != tool)
    .flat_map(|other| step_words(other))
    .any(|w| !own.contains(w) && ws.iter().any(|x| x == w));
    (names_own || points_back) && !names_other
}

#[cfg(test)]
mod tests {
    use super::asks_about;

    #[test]
    fn a_question_about_the_step_just_taken() {
        assert!(asks_about(
            "How long have I got before this one goes stale?",
            "reset_password"
        ));
        assert!(asks_about(
            "And how long till it reaches the card?",
            "issue_refund"
        ));
        assert!(!asks_about("When is my next bill due?", "open_ticket"));
        assert!(!asks_about(
            "How long does a refund take?",
            "reset_password"
        ));
    }
}
