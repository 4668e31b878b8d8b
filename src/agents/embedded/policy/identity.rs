//! Callers the account system does not know by their number: the phone number on the
//! account and its ZIP code are asked for before any tool that needs the customer
//! ([`NEEDS_CUSTOMER`]), checked with `lookup_customer`, and the request that needed
//! them is then served. Nothing about an account is said before the check passes.
//!
//! The state is read from the history: the billing record's or the caller-identity
//! note (`"found": false`), a tool's `customer_not_identified` refusal, and
//! `lookup_customer` results. Arriving at billing (which serves nothing without the
//! account) the account is asked for at once; elsewhere only before a tool that needs it.

use serde_json::{json, Value};

use super::account_details::{
    about_another_account, account_number, details_only, says_own_line, without_account_details,
};
use super::{confirm, find_call, has_tool, parse_result, Decision, Policy, Turn};
use crate::agents::embedded::embedder::Embedder;
use crate::agents::embedded::slots;
use crate::agents::embedded::templates::lookup;
use crate::agents::hooks::{BILLING_RECORD_PREFIX, CALLER_IDENTITY_PREFIX};
use crate::agents::model::{ChatMessage, ModelError};
use crate::agents::tools::{caller_phrase, NEEDS_CUSTOMER};

const LOOKUP: &str = "lookup_customer";

/// Asked again when the caller answered without the number.
const ASK_AGAIN: &str = "No problem. When you have it, tell me the phone number on the account and its ZIP code, and I'll pull it up.";
/// Asked when the caller gave the number but not its ZIP code yet.
const ASK_ZIP: &str = "Thanks. And the ZIP code on the account?";
/// Asked when the caller gave a ZIP code but no number yet.
const ASK_PHONE: &str = "Thanks. And what's the phone number on the account?";
/// A second ZIP code that does not match: say so once more, without a question.
const STILL_NO_MATCH: &str = "That ZIP code still doesn't match the account, so I can't open it over the phone. A paper bill or the welcome email shows the number and ZIP on the account.";
/// No account under the number given.
const NO_ACCOUNT: &str =
    "I couldn't find an account under that number. Could you check the number and tell me again?";
/// Asked when a caller on a line we know calls about someone else's account.
const ASK_OTHER: &str = "Of course. What's the phone number on that account, and its ZIP code?";
/// Verified, but nothing asked before it to go back to.
const VERIFIED: &str = "Thanks, I've found your account. What can I help you with?";
/// Said before a question still open when the account was found.
const FOUND: &str = "Thanks, I've found your account.";

/// Where the caller's identity stands in this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    /// The calling number is on file, or an account was verified.
    Known,
    /// The account system said the calling number is not on file.
    NotOnFile,
    /// Nothing says either way (no record note, no tool has asked).
    Unknown,
}

fn identity(messages: &[ChatMessage]) -> Identity {
    let mut state = Identity::Unknown;
    for m in messages {
        match m {
            ChatMessage::System { content }
                if content.starts_with(BILLING_RECORD_PREFIX)
                    || content.starts_with(CALLER_IDENTITY_PREFIX) =>
            {
                state = if content.contains("\"found\":false") {
                    Identity::NotOnFile
                } else {
                    Identity::Known
                };
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => {
                let result = parse_result(content);
                let tool = find_call(messages, tool_call_id)
                    .map(|(n, _)| n)
                    .unwrap_or_default();
                let error = lookup(&result, "error").and_then(Value::as_str);
                // A number given without its ZIP ("verification_required") is not
                // verified yet either: the ZIP still has to come.
                if matches!(
                    error,
                    Some("customer_not_identified" | "verification_required")
                ) {
                    state = Identity::NotOnFile;
                } else if (tool == LOOKUP && result["found"] == json!(true))
                    || (error.is_none() && NEEDS_CUSTOMER.contains(&tool.as_str()))
                {
                    state = Identity::Known;
                }
            }
            _ => {}
        }
    }
    state
}

/// [`identity`], where a caller known by their line who calls about someone else's
/// account ("it's about a friend's account, not mine") counts as not identified until
/// that account is looked up: its number and ZIP are asked for like any other.
fn identity_for_request(t: &Turn, messages: &[ChatMessage]) -> Identity {
    let state = identity(messages);
    if state == Identity::Known && for_another_account(t, messages) {
        Identity::NotOnFile
    } else {
        state
    }
}

/// A caller line says the call is about another account, and since then no account
/// was found by `lookup_customer` and the caller did not say it is this line after all
/// ("it's this number").
fn for_another_account(t: &Turn, messages: &[ChatMessage]) -> bool {
    let Some(said) = messages.iter().rposition(
        |m| matches!(m, ChatMessage::User { content } if about_another_account(content)),
    ) else {
        return false;
    };
    let own_line_after = messages[said..]
        .iter()
        .any(|m| matches!(m, ChatMessage::User { content } if says_own_line(t, content)));
    !own_line_after && !super::history::found_another_account(&messages[said..])
}

/// The calling line's customer as the caller-identity note gave it (name, region and
/// plan, in `lookup_customer`'s shape), while no other account was verified since.
pub(super) fn customer_of_calling_line(messages: &[ChatMessage]) -> Option<Value> {
    let note = messages.iter().find_map(|m| match m {
        ChatMessage::System { content } if content.starts_with(CALLER_IDENTITY_PREFIX) => {
            Some(content.as_str())
        }
        _ => None,
    })?;
    let verified_since = messages.iter().any(|m| match m {
        ChatMessage::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| c.name == LOOKUP),
        _ => false,
    });
    if verified_since {
        return None;
    }
    let facts: Value = serde_json::from_str(note.rsplit_once("json: ")?.1.trim()).ok()?;
    (facts["found"] == json!(true) && facts["plan_details"].is_object()).then(|| {
        json!({
            "found": true,
            "customer": {
                "name": facts["name"],
                "region": facts["region"],
                "plan": facts["plan_details"],
            },
        })
    })
}

impl Policy {
    /// The caller gives an account's number (not the one they call from) while no
    /// account is verified: [`Policy::identify`] must see the turn first.
    pub(super) fn gives_unverified_account(&self, t: &Turn) -> bool {
        if !has_tool(&t.req.tools, LOOKUP)
            || identity_for_request(t, &t.req.messages) == Identity::Known
        {
            return false;
        }
        account_number(t, t.user_text).is_some()
    }

    /// The step for a caller whose account is not identified yet: check a number and
    /// ZIP they gave, or ask for them before a tool that needs the account. `None`
    /// when identity is not in the way.
    pub(super) fn identify(
        &self,
        embedder: &Embedder,
        t: &Turn,
        arrival: bool,
    ) -> Result<Option<Decision>, ModelError> {
        if !has_tool(&t.req.tools, LOOKUP) {
            return Ok(None);
        }
        // The whole history: after a handoff the record note follows the caller's turn.
        let history = t.req.messages.as_slice();
        let state = identity_for_request(t, history);
        if state == Identity::Known {
            return Ok(None);
        }
        let other = identity(history) == Identity::Known;
        let callers = super::caller_lines(history);
        let phone_now = account_number(t, t.user_text);
        let zip_now = slots::zip(t.user_text);
        // A number (and ZIP) given now, or a ZIP now for a number given before.
        let phone = phone_now.clone().or_else(|| {
            zip_now
                .as_ref()
                .and_then(|_| callers.iter().skip(1).find_map(|c| account_number(t, c)))
        });
        // Asked for both, given the number only ("…and the ZIP, hang on, I'll punch it
        // in"): wait for the ZIP rather than look the number up without it.
        // A ZIP given a turn or two before the number ("the zip I know by heart… the
        // phone is saved in my other phone") goes with it.
        // (Not one already tried with another number, unless "same ZIP".)
        let said = confirm::spaced(t.user_text);
        let same_zip = [
            " same zip",
            " zip is the same",
            " zip's the same",
            " same zip code",
        ]
        .iter()
        .any(|p| said.contains(p));
        let tried = |zip: &String| {
            history.iter().any(|m| {
                matches!(m, ChatMessage::Assistant { tool_calls, .. }
                    if tool_calls.iter().any(|c| c.name == LOOKUP && c.arguments.contains(zip.as_str())))
            })
        };
        let zip_now = zip_now.or_else(|| {
            phone_now.as_ref().and_then(|_| {
                callers
                    .iter()
                    .skip(1)
                    .take(2)
                    .find_map(|c| slots::zip(c))
                    .filter(|z| !tried(z) || same_zip)
            })
        });
        // Another number than the caller's own is only ever checked with its ZIP,
        // asked by the agent the request is for ("…my mother's bill, when is it due?
        // Her number is…": billing asks).
        if phone_now.is_some() && zip_now.is_none() {
            let routing = self.route_turn(embedder, t.user_text)?;
            let elsewhere = routing.owner.as_deref().is_some_and(|o| {
                o != t.req.agent
                    && o != super::ANY
                    && o != super::HUMAN
                    && has_tool(&t.req.tools, &super::transfer(o))
            });
            // (Not when the caller says the ZIP comes next — "…and I'll type the
            // ZIP": it is asked for here, where the keys will land.)
            let zip_coming = confirm::says_any(t.user_text, &["zip", "zip code", "postcode"]);
            if elsewhere && !arrival && !zip_coming {
                return Ok(None);
            }
            return Ok(Some(Decision::Say(ASK_ZIP.into())));
        }
        // The ZIP we asked for, for a number given before.
        // (A hold in between — "hang on, it's on a letter on the fridge" — is looked past.)
        let asked_zip = super::last_spoken(&history[..t.user_idx]) == Some(ASK_ZIP)
            || super::interjections::past_interjections(&history[..t.user_idx], |c| {
                self.is_retry(c)
            })
            .iter()
            .find_map(|m| match m {
                ChatMessage::Assistant {
                    content: Some(c),
                    tool_calls,
                } if tool_calls.is_empty() && !c.trim().is_empty() => Some(c.trim() == ASK_ZIP),
                _ => None,
            })
            .unwrap_or(false);
        if let Some(phone) = phone {
            if state == Identity::NotOnFile || phone_now.is_some() || asked_zip {
                let mut arguments = json!({ "phone": phone });
                if let Some(zip) = zip_now {
                    arguments["zip_code"] = json!(zip);
                }
                return Ok(Some(Decision::Call {
                    say: None,
                    name: LOOKUP.into(),
                    arguments,
                }));
            }
        }
        if state != Identity::NotOnFile {
            return Ok(None);
        }
        if zip_now.is_some() {
            return Ok(Some(Decision::Say(ASK_PHONE.into())));
        }
        // Leaving without the number ("forget it, I'll find a paper bill. Bye."):
        // say goodbye rather than ask again.
        if confirm::ends_with_farewell(t.user_text) {
            if let Some(d) = self.goodbye(t) {
                return Ok(Some(d));
            }
        }
        // What the caller asks for: a tool that needs the account waits for the check.
        let agent = t.req.agent.as_str();
        let mut routing = self.route_turn(embedder, t.user_text)?;
        // Arriving for one request of several in the turn: that one is what we serve.
        if arrival {
            let requests = self.requests(embedder, t.user_text)?;
            if let Some(r) = requests.iter().find(|r| r.owner == agent) {
                routing = self.route_turn(embedder, &r.clause)?;
            }
        }
        let ours = routing.owner.as_deref() == Some(agent);
        let intent = routing
            .best
            .as_ref()
            .map(|b| &self.brains[&b.intent.agent].intents[b.intent.index]);
        let tool = intent.and_then(|i| i.tool.as_deref());
        // (An intent served for anyone — the API limits, answered for every plan when
        // no account is known — waits for nothing.)
        let needs = ours
            && tool.is_some_and(|tool| NEEDS_CUSTOMER.contains(&tool))
            && !intent.is_some_and(|i| i.anyone);
        // "How much are your plans?" is answered from what we say to everyone.
        let answered_plainly =
            ours && intent.is_some_and(|i| (i.tool.is_none() && i.route.is_none()) || i.anyone);
        let first_ask = if other {
            ASK_OTHER
        } else {
            caller_phrase("customer_not_identified")
        };
        let asked_before = super::said_before(history, caller_phrase("customer_not_identified"))
            || super::said_before(history, ASK_OTHER);
        // Billing serves nothing without the account: arriving there, it is asked for
        // at once. Elsewhere (an outage question) only a tool that needs it asks.
        let billing_record = history.iter().any(
            |m| matches!(m, ChatMessage::System { content } if content.starts_with(BILLING_RECORD_PREFIX)),
        );
        if needs || (arrival && billing_record && !asked_before && !answered_plainly) {
            let ask = if asked_before { ASK_AGAIN } else { first_ask };
            return Ok(Some(Decision::Say(ask.into())));
        }
        // Our open question was the number and the caller answered without it (and
        // asked for nothing we could serve without the account): ask once more.
        // Something served without the account: another agent's topic, a goodbye, or
        // one of ours whose tool does not need it.
        let serves_without_account = match routing.owner.as_deref() {
            None => false,
            Some(o) if o != agent => true,
            Some(_) => tool.is_some_and(|tool| tool != LOOKUP),
        };
        let open = super::last_spoken(history).is_some_and(|l| {
            l == caller_phrase("customer_not_identified")
                || l == ASK_OTHER
                || l == ASK_PHONE
                || l == ASK_ZIP
                || l == NO_ACCOUNT
        });
        if open && !serves_without_account && !super::said_before(history, ASK_AGAIN) {
            return Ok(Some(Decision::Say(ASK_AGAIN.into())));
        }
        Ok(None)
    }

    /// A `lookup_customer` result for a number the caller gave: serve the request
    /// that needed the account, or say plainly why it cannot be opened.
    pub(super) fn after_lookup(
        &self,
        embedder: &Embedder,
        t: &Turn,
        arguments: &str,
        result: &Value,
    ) -> Result<Option<Decision>, ModelError> {
        let args: Value = serde_json::from_str(arguments).unwrap_or_default();
        if args.get("phone").is_none() {
            return Ok(None);
        }
        let history = t.req.messages.as_slice();
        if let Some(code) = lookup(result, "error").and_then(Value::as_str) {
            let failures = history
                .iter()
                .filter(|m| matches!(m, ChatMessage::Tool { content, .. } if content.contains("\"verification_failed\"")))
                .count();
            let text = match code {
                "verification_failed" if failures > 1 => STILL_NO_MATCH.to_string(),
                _ => lookup(result, "say")
                    .and_then(Value::as_str)
                    .unwrap_or(caller_phrase(code))
                    .to_string(),
            };
            return Ok(Some(Decision::Say(text)));
        }
        if result["found"] != json!(true) {
            return Ok(Some(Decision::Say(NO_ACCOUNT.into())));
        }
        // The question the number interrupted ("…by text or by email?" "It's under my
        // husband's number, … send it to the email"): that request goes on.
        // (It may lie a question or two back: the ZIP was asked for after the number.)
        let asked = history[..t.user_idx]
            .iter()
            .rev()
            .filter_map(|m| match m {
                ChatMessage::Assistant {
                    content: Some(c),
                    tool_calls,
                } if tool_calls.is_empty() => Some(c.trim()),
                _ => None,
            })
            .take(3)
            .find_map(|said| t.spec.intents.iter().find(|i| i.asks(said)));
        if let Some(intent) = asked {
            let step = self.act(t, intent, None);
            // Still missing what we asked: say the account was found, and ask again.
            let asks = matches!(&step, Decision::Say(s) if Some(s) == intent.ask_again.as_ref());
            let prefix = asks.then_some(FOUND);
            return Ok(Some(super::serving::with_prefix(prefix, step)));
        }
        // The latest caller request that this agent serves with a tool: before the
        // number was given when we asked for it, or in the same turn when the caller
        // gave it unasked ("I need a password reset; the number on it is…").
        let agent = t.req.agent.as_str();
        // (Unasked also whenever our last line did not ask for the details, whatever
        // the identity state: "while I've got you, could you text our latest bill?
        // The account's under my number… and the ZIP is…". `asks_for_details` reads
        // our own lines' wording: the ZIP code, the number on the account.)
        let unasked = identity(&history[..t.user_idx]) == Identity::Unknown
            || !super::last_spoken(&history[..t.user_idx]).is_some_and(asks_for_details);
        let end = if unasked { t.user_idx + 1 } else { t.user_idx };
        for (i, m) in history[..end].iter().enumerate().rev() {
            let ChatMessage::User { content } = m else {
                continue;
            };
            // A turn that gave the account's number or ZIP answered our question; the
            // request came before it (unless the number came with it, unasked).
            let details = account_number(t, content).is_some() || slots::zip(content).is_some();
            // (…unless it asked for something besides: "please move us up to the five
            // hundred one. His number is five five five…" — read without the details.)
            let besides = details.then(|| without_account_details(content)).flatten();
            // (A turn of details alone — a keyed ZIP — asks nothing, given unasked or not.)
            let only_details = details_only(content);
            if details
                && besides.is_none()
                && (only_details || !(unasked && i == t.user_idx))
                && !confirm::makes_request(content)
            {
                continue;
            }
            let content = besides.as_deref().unwrap_or(content);
            // A turn of several requests ("Two things. …is there a problem in
            // Riverside? And I need my March bill sent to my email."): this agent's
            // own request with a tool, on its clause.
            let own = self.requests(embedder, content)?.into_iter().find(|r| {
                r.owner == agent
                    && self.brains[&r.agent].intents[r.index]
                        .tool
                        .as_deref()
                        .is_some_and(|tool| tool != LOOKUP)
            });
            if let Some(r) = own {
                let earlier = Turn {
                    req: t.req,
                    spec: t.spec,
                    user_idx: t.user_idx,
                    user_text: &r.clause,
                };
                return Ok(Some(self.act(
                    &earlier,
                    &self.brains[&r.agent].intents[r.index],
                    None,
                )));
            }
            let mut routing = self.route_turn(embedder, content)?;
            // ("Hi, I'm calling from the kennels where my dogs are boarding. I want to
            // come down from the Pro to the Plus.": the sentence that asks.)
            if routing.owner.is_none() {
                for sentence in content.split_inclusive(['.', '?', '!']).rev() {
                    let r = self.route_turn(embedder, sentence)?;
                    if r.owner.is_some() {
                        routing = r;
                        break;
                    }
                }
            }
            if let (Some(owner), Some(best)) = (routing.owner, routing.best) {
                if owner != agent {
                    // Another agent's request (verified at triage): hand it over.
                    if has_tool(&t.req.tools, &super::transfer(&owner)) {
                        let reason = format!(
                            "account verified; intent {} score {:.2}: topic belongs to {owner}",
                            best.intent.name, best.score
                        );
                        return Ok(Some(self.handoff(t, &owner, "intent", reason)));
                    }
                    continue;
                }
                let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
                // ("…what plan we are on?" then the number: the lookup answers it.)
                if intent.tool.as_deref() == Some(LOOKUP) {
                    if let Some(text) = super::choose_reply(&intent.replies, result) {
                        return Ok(Some(Decision::Say(format!("{FOUND} {text}"))));
                    }
                }
                if intent.tool.as_deref().is_some_and(|tool| tool != LOOKUP) {
                    let earlier = Turn {
                        req: t.req,
                        spec: t.spec,
                        user_idx: t.user_idx,
                        user_text: content,
                    };
                    return Ok(Some(self.act(&earlier, intent, None)));
                }
            }
        }
        Ok(Some(Decision::Say(VERIFIED.into())))
    }
}

/// A line of ours that asks for the account's phone number or ZIP code.
fn asks_for_details(line: &str) -> bool {
    line.contains("ZIP code")
        || line.contains("number on the account")
        || line.contains("under that number")
}

/// The calling number is known to match no account, and none was verified since.
pub(super) fn not_on_file(messages: &[ChatMessage]) -> bool {
    identity(messages) == Identity::NotOnFile
}
