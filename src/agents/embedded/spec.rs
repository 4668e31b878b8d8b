//! The `[brain]` table of an agent's prompt file: intents with example phrases,
//! the tool each intent calls and how its arguments are filled, and the reply
//! templates the embedded brain speaks.
//!
//! ```toml
//! [brain]
//! greeting = "Hi, thanks for calling. How can I help?"
//! arrival = "Sure, I can help with that. What's going on?"   # after a handoff with no clear intent
//! clarify = ["Sorry, could you say that another way?", "..."]
//! fallback = "Let me see what I can do."
//! declined = "No problem, I'll leave it as it is."
//! tool_error = "Sorry, I couldn't get that done just now."
//! handoff_refused = "I can't sort that out myself. Shall I get a person from our team to help?"
//!
//! [[brain.next_steps]]                      # the next rung of advice the caller already followed
//! after = ["restart your modem"]            # words of the advice it follows
//! text = "Since you've restarted it, check the cable from the wall…"
//!
//! [[brain.intents]]
//! name = "duplicate_charge"
//! examples = ["I was charged twice", "..."]
//! tool = "find_duplicate_charges"          # optional; without it the intent just replies
//! args = { }                               # "$enum", "$digits", "$caller", "$place" (a city the caller names), "$text", "$details" (answer to `ask` + what led to it), "$result.path" or literals
//! ask = "Which plan would you like?"        # spoken when a "$..." argument cannot be filled
//! synonyms = { sms = ["text"] }             # caller words for "$enum" values ("$enum?" = optional)
//! say = "..."                              # optional text spoken together with the tool call
//! route = "human"                          # optional: this intent escalates to a person
//! replies = [ { when = "count=0", text = "I don't see any duplicate." },
//!             { text = "I can see you were charged twice on {duplicates.0.date_spoken}..." } ]
//! accept = "change_plan"                    # optional: a yes to this intent's closing question asks for that intent
//! max_words = 12                            # optional: only short turns match (vague topics)
//! needs_any = ["how much", "cost"]          # optional: only turns holding one of these match
//! unless_any = ["only asking"]              # optional: turns holding one of these never match
//! given_when = [["endpoint"], ["error"]]   # optional: the request already answers `ask` when every group is named
//! cues = ["charged twice", "text * bill"]   # optional: a turn holding one ranks this intent first ("*": up to five words, after a verb)
//! again = "Yes, it's on its way."           # optional: said when asked about it after it was done
//! record = "duplicates"                     # optional: the billing record's key ("duplicates", "invoices", "customer") that answers `tool` without a call
//! breakdown = true                         # optional: the answer is the bill's charges from the record
//! persisting = true                         # optional: the turn says the problem just handled persists (no second ticket)
//! aside = true                              # optional: a remark beside any request ("is this Switchboard?"); a request in the same turn wins
//! answers = [ { asked = ["cut my internet"], text = "No, your internet keeps working." } ]  # optional: questions about the step while `ask` is open
//! [brain.intents.then]                      # optional follow-up tool when the first result satisfies `when`
//! when = "all_ok"
//! tool = "lookup_customer"
//! replies = [ { when = "customer.plan.code=basic", text = "Your plan tops out at {customer.plan.speed_mbps} megabits…" } ]
//! [brain.intents.confirm]                   # optional second step after the caller says yes
//! when = "count"                            # the first result must satisfy this to make an offer
//! tool = "issue_refund"
//! args = { charge_id = "$result.duplicates.0.refundable_charge_ids.0", confirmed = true }
//! replies = [ { text = "Done, {amount} is on its way back to you." } ]
//! ```

use serde::Deserialize;

/// One agent's brain, parsed from its `[brain]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrainSpec {
    /// First words of a call (no caller input yet).
    #[serde(default)]
    pub greeting: Option<String>,
    /// Spoken on arrival after a handoff when the caller's words match nothing here.
    #[serde(default)]
    pub arrival: Option<String>,
    /// Clarifying questions, used in turn for consecutive low-confidence turns.
    #[serde(default)]
    pub clarify: Vec<String>,
    /// Said when nothing else applies.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Said when the caller declines an offer.
    #[serde(default)]
    pub declined: Option<String>,
    /// Said when a tool returned an error and the intent has no matching reply.
    #[serde(default)]
    pub tool_error: Option<String>,
    /// Said when the runtime refused a handoff (ping-pong guard): offers a person.
    #[serde(default)]
    pub handoff_refused: Option<String>,
    #[serde(default)]
    pub intents: Vec<IntentSpec>,
    /// Further advice, said in place of advice the caller says they already followed
    /// (before any ticket): "I already restarted it" after a healthy status check gets
    /// the cable check, not the restart again.
    #[serde(default)]
    pub next_steps: Vec<NextStep>,
}

/// A rung of the advice ladder: said instead of advice holding one of `after` when
/// the caller already took a step of it (and not yet this one's steps).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextStep {
    /// Phrases of the advice this step follows (lower case, matched in our reply).
    pub after: Vec<String>,
    /// What to say instead of that advice.
    pub text: String,
}

/// One intent: what callers say, and what the agent does about it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentSpec {
    pub name: String,
    pub examples: Vec<String>,
    #[serde(default)]
    pub tool: Option<String>,
    #[serde(default)]
    pub args: toml::Table,
    #[serde(default)]
    pub ask: Option<String>,
    /// Asked instead of `ask` once `ask` was said in the call and the value is still
    /// missing (after the account was verified, after an interjection): the same
    /// question in other words, so no reply repeats verbatim.
    #[serde(default)]
    pub ask_again: Option<String>,
    /// Asked when the caller wants an older bill without saying which ("one of my
    /// old statements"): the month is needed before anything is sent.
    #[serde(default)]
    pub ask_month: Option<String>,
    /// Caller words for `$enum` values, e.g. `{ sms = ["text", "message"] }`.
    #[serde(default)]
    pub synonyms: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub say: Option<String>,
    /// `human`: the intent escalates (transfer_to_human, trigger escalation).
    #[serde(default)]
    pub route: Option<String>,
    #[serde(default)]
    pub replies: Vec<Reply>,
    #[serde(default)]
    pub confirm: Option<StepSpec>,
    /// A second tool called at once when the first result satisfies `when` (the line
    /// is healthy, so look at the caller's plan), answered with its own replies.
    #[serde(default)]
    pub then: Option<StepSpec>,
    /// The intent (of any agent) that a "yes" to this intent's closing question asks
    /// for ("…Would you like a faster plan?" → `change_plan`).
    #[serde(default)]
    pub accept: Option<String>,
    /// Only turns of at most this many words match the intent (a vague topic such as
    /// "it's about my bill" must not win over the request at the end of a story).
    #[serde(default)]
    pub max_words: Option<usize>,
    /// Only turns holding one of these words or phrases match the intent (a price
    /// question says "how much" or "cost"; "go up to your top plan" is a change).
    #[serde(default)]
    pub needs_any: Vec<String>,
    /// Turns holding one of these words or phrases never match the intent ("is there
    /// a faster one? I'm only asking" asks the prices, it changes no plan).
    #[serde(default)]
    pub unless_any: Vec<String>,
    /// Phrases that name this intent outright ("charged twice"): a turn holding one
    /// ranks it first, whatever else the turn's words resemble.
    #[serde(default)]
    pub cues: Vec<String>,
    /// Said when the caller asks about this intent's action after it was done in the
    /// call ("you're texting that?"), instead of doing it twice.
    #[serde(default)]
    pub again: Option<String>,
    /// The request already answers `ask` when it holds a word or phrase of every
    /// group ("…slash v one slash payments gives five oh three" names the endpoint
    /// and the error): `$details` is then the request itself, and nothing is asked.
    #[serde(default)]
    pub given_when: Vec<Vec<String>>,
    /// The key of the caller's billing record (injected when billing takes the call)
    /// that already holds what `tool` would return (`"duplicates"`, `"invoices"`,
    /// `"customer"`):
    /// while the record holds it and nothing in the call has changed the account,
    /// the intent answers from the record instead of calling the tool.
    #[serde(default)]
    pub record: Option<String>,
    /// The intent reports that the problem just dealt with persists ("I already tried
    /// that, it still whines"): when the latest thing done was this intent's tool (the
    /// ticket is open), `again` is said instead of doing it a second time.
    #[serde(default)]
    pub persisting: bool,
    /// Why a bill is its amount: the answer is the bill's charges from the billing
    /// record (`policy/bill_breakdown.rs`), the replies only when the record has none.
    #[serde(default)]
    pub breakdown: bool,
    /// A remark beside any request ("is this Switchboard?"): when another clause of
    /// the turn asks for something, that request is routed instead.
    #[serde(default)]
    pub aside: bool,
    /// Answers to questions about this intent's step, asked while its question for a
    /// missing value is open ("will that cut my internet off?" before choosing how
    /// the reset link is sent): the answer, then the question again.
    #[serde(default)]
    pub answers: Vec<StepAnswer>,
    /// Served for anyone, with no account verified ("I keep getting your invoice
    /// emails for somebody else"): a caller not on file is not asked for one.
    #[serde(default)]
    pub anyone: bool,
}

impl IntentSpec {
    /// Whether `said` (a line of ours) is this intent's question for a missing value:
    /// `ask` or `ask_again`, on its own or after a lead-in ("Thanks, I've found your
    /// account. So, should…").
    pub fn asks(&self, said: &str) -> bool {
        self.open_question(said).is_some()
    }

    /// Which of `ask`, `ask_again` or `ask_month` `said` (a line of ours) ends with
    /// ([`asks`](Self::asks)).
    pub fn open_question(&self, said: &str) -> Option<&String> {
        let said = said.trim();
        [&self.ask, &self.ask_again, &self.ask_month]
            .into_iter()
            .flatten()
            .find(|q| said == q.as_str() || said.ends_with(&format!(" {q}")))
    }
}

/// An answer to a question about an intent's step ([`IntentSpec::answers`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAnswer {
    /// Phrases that ask it (lower case, matched as whole words in a question).
    pub asked: Vec<String>,
    /// What to say.
    pub text: String,
}

/// A second step of an intent: `confirm` runs it after the caller's yes (the refund
/// after the offer), `then` at once (the caller's plan after a healthy line check).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Condition on the first tool's result for the step (or the offer) to stand.
    #[serde(default)]
    pub when: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub args: toml::Table,
    #[serde(default)]
    pub replies: Vec<Reply>,
}

/// A reply template with an optional condition on the tool result.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Reply {
    Plain(String),
    Guarded {
        #[serde(default)]
        when: Option<String>,
        text: String,
    },
}

impl Reply {
    /// The condition, if any.
    pub fn when(&self) -> Option<&str> {
        match self {
            Reply::Plain(_) => None,
            Reply::Guarded { when, .. } => when.as_deref(),
        }
    }
    /// The template text.
    pub fn text(&self) -> &str {
        match self {
            Reply::Plain(t) | Reply::Guarded { text: t, .. } => t,
        }
    }
}

/// Errors in a `[brain]` table.
#[derive(Debug, thiserror::Error)]
#[error("agent `{agent}`: invalid [brain] table: {message}")]
pub struct SpecError {
    pub agent: String,
    pub message: String,
}

impl BrainSpec {
    /// Parses an agent's `[brain]` table (an empty table is a brain with no intents).
    pub fn parse(agent: &str, value: &toml::Value) -> Result<Self, SpecError> {
        let spec: BrainSpec = value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| SpecError {
                agent: agent.into(),
                message: e.to_string(),
            })?;
        for intent in &spec.intents {
            if intent.examples.is_empty() {
                return Err(SpecError {
                    agent: agent.into(),
                    message: format!("intent `{}` has no examples", intent.name),
                });
            }
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intents_replies_and_confirm() {
        let v: toml::Value = toml::from_str(
            r#"
            greeting = "Hi"
            clarify = ["Sorry?"]
            [[intents]]
            name = "dup"
            examples = ["charged twice"]
            tool = "find_duplicate_charges"
            replies = [{ when = "count=0", text = "none" }, "found {count}"]
            [intents.confirm]
            tool = "issue_refund"
            args = { confirmed = true, charge_id = "$result.duplicates.0.id" }
            "#,
        )
        .unwrap();
        let s = BrainSpec::parse("billing", &v).unwrap();
        assert_eq!(s.intents[0].replies.len(), 2);
        assert_eq!(s.intents[0].replies[0].when(), Some("count=0"));
        assert_eq!(s.intents[0].replies[1].text(), "found {count}");
        assert_eq!(s.intents[0].confirm.as_ref().unwrap().tool, "issue_refund");
    }

    #[test]
    fn rejects_unknown_keys_and_empty_examples() {
        let v: toml::Value = toml::from_str("greetin = 'x'").unwrap();
        assert!(BrainSpec::parse("t", &v)
            .unwrap_err()
            .to_string()
            .contains("agent `t`"));
        let v: toml::Value = toml::from_str("[[intents]]\nname='a'\nexamples=[]").unwrap();
        assert!(BrainSpec::parse("t", &v).is_err());
    }
}
