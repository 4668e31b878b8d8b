//! Serving the requests of a turn that held several, one at a time: this agent's
//! own first, each on its own clause; then a handoff to the owner of the next one not
//! served. Served is read from the history: an own request's tool was called (or its
//! reply said) after the turn, or its owner has had the floor since.

use super::history::without_anything_else;
use super::requests::Request;
use super::{has_tool, transfer, Decision, Policy, Turn};
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::{ChatMessage, ModelError};

/// How many of the latest caller turns may still hold requests being served after a
/// reply (the turn that asked, and a "yes" to an offer made on the way).
pub(super) const LOOKBACK_TURNS: usize = 2;

impl Policy {
    /// The next request still to serve from a recent turn that held several: this
    /// agent's own first (as an action on its clause), else a handoff to the owner of
    /// the first one not served. `say` is spoken first (the reply just made).
    ///
    /// `fresh_only` (going on past an answer's own follow-up offer): a request whose
    /// step was already taken in the call is not gone on to ("…will that also get
    /// cheaper if I change now?" asks about the change already offered).
    pub(super) fn next_request(
        &self,
        embedder: &Embedder,
        t: &Turn,
        say: Option<&str>,
        lookback: usize,
        fresh_only: bool,
    ) -> Result<Option<Decision>, ModelError> {
        let msgs = &t.req.messages;
        let turns: Vec<usize> = msgs[..=t.user_idx]
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, m)| matches!(m, ChatMessage::User { .. }))
            .map(|(i, _)| i)
            .take(lookback)
            .collect();
        for idx in turns {
            let ChatMessage::User { content } = &msgs[idx] else {
                continue;
            };
            let requests = self.requests(embedder, content)?;
            if requests.is_empty() {
                continue;
            }
            let agent = t.req.agent.as_str();
            let after = &msgs[idx + 1..];
            let open: Vec<&Request> = requests
                .iter()
                .filter(|r| !self.served(r, agent, content, msgs, after))
                .filter(|r| !fresh_only || !self.taken_before(r, t))
                .collect();
            let next = open
                .iter()
                .find(|r| r.owner == agent)
                .or_else(|| open.first())
                .copied();
            let Some(next) = next else {
                return Ok(None);
            };
            let prefix = say.map(str::trim).filter(|s| !s.is_empty());
            if next.owner == agent {
                let focus = Turn {
                    req: t.req,
                    spec: t.spec,
                    user_idx: t.user_idx,
                    user_text: &next.clause,
                };
                let step = self.act(&focus, &self.brains[&next.agent].intents[next.index], None);
                // A request answered in words ("where do I change the webhook?") leaves
                // the next one of the turn waiting: go on to it in the same reply.
                if let Decision::Say(text) = &step {
                    // (An answer's own follow-up offer — "Would you like me to go
                    // through any charge on it?" — waits behind the request still
                    // asked: "I'm past due? Can you text me that bill?")
                    let intent = &self.brains[&next.agent].intents[next.index];
                    let report = report_before_next(Some(intent), text);
                    // (Only in a turn of exactly two requests: a third found in a
                    // story is more likely read in than asked.)
                    // (Past an answer's own follow-up offer, only to a step not yet
                    // taken in the call: "…will that also get cheaper if I change
                    // now?" asks about the change already offered.)
                    let past_offer = without_anything_else(text).is_none();
                    let later = open
                        .iter()
                        .find(|r| !std::ptr::eq(**r, next))
                        .filter(|_| requests.len() == 2)
                        .filter(|r| !past_offer || !self.taken_before(r, t));
                    if let (Some(report), Some(later)) = (report, later) {
                        let said = match prefix {
                            Some(p) => format!("{p} {report}"),
                            None => report,
                        };
                        if later.owner == agent {
                            let focus = Turn {
                                user_text: &later.clause,
                                ..focus
                            };
                            let step = self.act(
                                &focus,
                                &self.brains[&later.agent].intents[later.index],
                                None,
                            );
                            return Ok(Some(with_prefix(Some(&said), step)));
                        }
                        if has_tool(&t.req.tools, &transfer(&later.owner)) {
                            let reason = format!(
                                "second request in one turn: intent {} belongs to {}",
                                self.brains[&later.agent].intents[later.index].name, later.owner
                            );
                            let step = self.handoff(t, &later.owner, "intent", reason);
                            return Ok(Some(with_prefix(Some(&said), step)));
                        }
                    }
                }
                return Ok(Some(with_prefix(prefix, step)));
            }
            if !has_tool(&t.req.tools, &transfer(&next.owner)) {
                return Ok(None);
            }
            let reason = format!(
                "second request in one turn: intent {} belongs to {}",
                self.brains[&next.agent].intents[next.index].name, next.owner
            );
            let step = self.handoff(t, &next.owner, "intent", reason);
            return Ok(Some(with_prefix(prefix, step)));
        }
        Ok(None)
    }

    /// Whether the tool of `r` already ran in the call before this turn.
    fn taken_before(&self, r: &Request, t: &Turn) -> bool {
        self.brains[&r.agent].intents[r.index]
            .tool
            .as_deref()
            .is_some_and(|tool| super::history::called(&t.req.messages[..t.user_idx], tool))
    }

    /// Whether `r` was served in `after` (the messages since its turn `turn`), seen by
    /// `agent`.
    fn served(
        &self,
        r: &Request,
        agent: &str,
        turn: &str,
        msgs: &[ChatMessage],
        after: &[ChatMessage],
    ) -> bool {
        let intent = &self.brains[&r.agent].intents[r.index];
        // Answered from the billing record: what it says about the record was said.
        let from_record = super::record::reply_from_record(intent, msgs);
        // An agent that had the floor since the turn and handed it on served its own.
        let had_floor = after.iter().any(|m| match m {
            ChatMessage::System { content } => {
                content.starts_with("Handoff note:")
                    && (content.contains(&format!("; {} was helping before", r.owner))
                        || (r.owner != agent
                            && content.contains(&format!("you ({}) are now", r.owner))))
            }
            _ => false,
        });
        if had_floor {
            return true;
        }
        if r.owner != agent {
            return false;
        }
        after.iter().any(|m| match m {
            ChatMessage::Assistant {
                tool_calls,
                content,
            } => {
                // Its tool ran, or the step it offers did ("yes, refund the extra
                // one" is served by the refund, not by looking the charge up again).
                tool_calls.iter().any(|c| {
                    // A request about a place is served by a call about that place.
                    let here = r.place.as_ref().is_none_or(|p| {
                        c.arguments
                            .to_lowercase()
                            .contains(&format!("\"{}\"", p.to_lowercase()))
                    });
                    here && (Some(c.name.as_str()) == intent.tool.as_deref()
                        || intent.confirm.as_ref().is_some_and(|s| s.tool == c.name)
                        // (Advice the turn says was already followed is served by
                        // the ticket opened in its place.)
                        || (intent.tool.is_none()
                            && intent.replies.iter().any(|reply| {
                                super::advice::asks_step_taken(turn, reply.text())
                            })
                            && self.brains[&r.agent].intents.iter().any(|i| {
                                i.persisting && i.tool.as_deref() == Some(c.name.as_str())
                            })))
                }) || content.as_deref().is_some_and(|c| {
                    let c = c.trim();
                    // (An answer given with a waiting offer asked again in place of
                    // its own closing question counts.)
                    let answer = super::side_question::without_closing_question;
                    intent.asks(c)
                        || (intent.tool.is_none()
                            && intent
                                .replies
                                .iter()
                                .any(|r| r.text() == c || c.starts_with(answer(r.text()))))
                        || from_record
                            .as_deref()
                            .is_some_and(|r| c.contains(answer(r)))
                })
            }
            _ => false,
        })
    }
}

/// What a reply reports when another request of the turn still waits: the reply
/// without its closing "Anything else?", or without the answer's own follow-up offer
/// (a question that is not the intent's confirm offer: "Would you like me to go
/// through any charge on it?" waits behind "…can you text me that bill?", and so does
/// "I don't see any duplicate charges. Would you like me to go through your recent
/// bills?"). `None` when the reply asks something that must be answered first (the
/// offer of a refund).
pub(super) fn report_before_next(
    intent: Option<&crate::agents::embedded::spec::IntentSpec>,
    text: &str,
) -> Option<String> {
    without_anything_else(text).or_else(|| {
        intent
            .filter(|i| {
                i.replies.iter().any(|r| {
                    // (A reply guarded otherwise than the confirm step makes no offer.)
                    let offers = i.confirm.as_ref().is_some_and(|c| {
                        c.when.is_none() || r.when().is_none() || r.when() == c.when.as_deref()
                    });
                    !offers && super::side_question::asked_in(r, text).is_some()
                })
            })
            .map(|_| super::side_question::without_closing_question(text).to_string())
    })
}

/// `step` with `prefix` spoken before it.
pub(super) fn with_prefix(prefix: Option<&str>, step: Decision) -> Decision {
    let Some(prefix) = prefix else {
        return step;
    };
    let join = |s: Option<String>| {
        let mut text = prefix.to_string();
        if let Some(s) = s.filter(|s| !s.trim().is_empty()) {
            text.push(' ');
            text.push_str(s.trim());
        }
        text
    };
    match step {
        Decision::Say(s) => Decision::Say(join(Some(s))),
        Decision::Call {
            say,
            name,
            arguments,
        } => Decision::Call {
            say: Some(join(say)),
            name,
            arguments,
        },
    }
}
