//! Where a tool argument comes from (`$text`, `$details`, `$digits`, `$caller`, `$phone`, `$place`,
//! `$enum`, `$invoice` (the invoice of the month named), `$result.path`): the caller's
//! words, the call, or a tool result.

use serde_json::{json, Value};

use super::Turn;
use crate::agents::embedded::slots;
use crate::agents::embedded::templates::lookup;
use crate::agents::model::{ChatMessage, ToolSpec};

pub(super) type Synonyms = std::collections::BTreeMap<String, Vec<String>>;

/// Resolves a `$...` argument source.
pub(super) fn resolve(
    src: &str,
    key: &str,
    tool: &str,
    t: &Turn,
    callers: &[&str],
    result: Option<&Value>,
    synonyms: &Synonyms,
) -> Option<Value> {
    match src {
        "$text" => Some(json!(t.user_text)),
        // The caller's answer to one of our questions, with the words that led to it:
        // unresolved (so the intent asks) until the caller has answered.
        // Holds and interjections in between ("let me pull up the logs, hang on")
        // are looked past, on both sides.
        "$details" => {
            if details_given(t, tool) {
                return Some(json!(t.user_text));
            }
            let earlier =
                super::interjections::past_interjections(&t.req.messages[..t.user_idx], |_| false);
            let asked = earlier.iter().find_map(|m| match m {
                ChatMessage::Assistant {
                    content: Some(c),
                    tool_calls,
                } if tool_calls.is_empty() => Some(c.as_str()),
                _ => None,
            })?;
            t.spec.intents.iter().any(|i| i.asks(asked)).then(|| {
                let mut said: Vec<&str> = callers
                    .iter()
                    .filter(|c| crate::agents::confirm::interjection(c).is_none())
                    .take(2)
                    .copied()
                    .collect();
                said.reverse();
                json!(said.join(" "))
            })
        }
        "$digits" => callers
            .iter()
            .find_map(|c| slots::digits(c))
            .map(Value::String),
        "$caller" => caller_phone(&t.req.messages).map(Value::String),
        // A place the caller names in this turn ("is something going on out in
        // Riverside?"); unnamed, the tool takes the caller's own.
        // A clause in focus is lower-case: the place is read in the whole turn, and
        // counts when the clause names it.
        "$place" => {
            let clause = callers.first()?;
            slots::place(clause)
                .or_else(|| slots::place_followup(clause))
                .or_else(|| {
                    let ChatMessage::User { content } = t.req.messages.get(t.user_idx)? else {
                        return None;
                    };
                    let said = crate::agents::confirm::spaced(clause);
                    slots::places(content).into_iter().find(|place| {
                        let place = crate::agents::confirm::words(place).join(" ");
                        said.contains(&format!(" {place} "))
                    })
                })
                // No account to say where the caller is: a place named anywhere in the
                // turn ("…about work on the network in Austin, and now my internet is
                // dead").
                .or_else(|| {
                    let ChatMessage::User { content } = t.req.messages.get(t.user_idx)? else {
                        return None;
                    };
                    let no_account = super::identity::not_on_file(&t.req.messages)
                        || number_withheld(&t.req.messages);
                    no_account
                        .then(|| {
                            slots::place(content).or_else(|| {
                                // …or the place already checked in this call.
                                let args = super::history::last_call_of(
                                    &t.req.messages[..t.user_idx],
                                    tool,
                                )?;
                                let args: Value = serde_json::from_str(&args).ok()?;
                                args.get(key)?.as_str().map(str::to_string)
                            })
                        })
                        .flatten()
                })
                // "Riverside. The shop's on Magnolia." answering our "Which city or
                // area?": the name the answer opens with.
                .or_else(|| {
                    let asked = t.req.messages[..t.user_idx]
                        .iter()
                        .rev()
                        .find_map(|m| match m {
                            ChatMessage::Assistant {
                                content: Some(c), ..
                            } if !c.trim().is_empty() => Some(c.contains("Which city or area")),
                            _ => None,
                        })
                        == Some(true);
                    asked.then(|| slots::place_answer(clause)).flatten()
                })
                .map(Value::String)
        }
        "$phone" => callers
            .iter()
            .find_map(|c| slots::phone(c))
            .map(Value::String),
        "$enum" => {
            let options = enum_options(&t.req.tools, tool, key);
            // A delivery channel is often named in passing ("the app on my phone",
            // "the email you have is my old one"): outside an answer to our question
            // offering the options, only a stated choice counts.
            let incidental = INCIDENTAL_ARGS.contains(&key);
            let answering = incidental && asked_to_choose(t, &options, synonyms);
            // "…my internet's the cheap one, so I wanna move up to the next plan": one
            // step from the current plan, whatever else the turn names.
            let relative = (key == "plan")
                .then(|| callers.first())
                .flatten()
                .and_then(|c| super::plan_direction::relative_plan(c, &options, &t.req.messages));
            relative
                .or_else(|| {
                    callers.iter().enumerate().find_map(|(i, c)| {
                        if incidental && !(answering && i == 0) {
                            slots::choose_stated(c, &options, synonyms)
                        } else {
                            slots::choose(c, &options, synonyms)
                        }
                    })
                })
                // A clause in focus that points back ("…what can I get for like
                // forty? Actually, just switch me to that one"): the choice named
                // elsewhere in the same turn.
                .or_else(|| {
                    let ChatMessage::User { content } = t.req.messages.get(t.user_idx)? else {
                        return None;
                    };
                    (!incidental && content.as_str() != t.user_text)
                        .then(|| slots::choose(content, &options, synonyms))
                        .flatten()
                })
                .or_else(|| offered_option(t, &options, synonyms))
                .map(|s| json!(s))
        }
        // The invoice of the month the caller named, from a list_invoices result.
        "$invoice" => {
            let month = callers
                .iter()
                .find_map(|c| requested_month(c, &t.req.messages))?;
            invoice_of_month(&t.req.messages, month)
                .or_else(|| invoice_on_record(&t.req.messages, month))
                .map(|id| json!(id))
        }
        other => {
            let path = other.strip_prefix("$result.")?;
            lookup(result?, path).cloned()
        }
    }
}

/// The month (1–12) of the bill the caller asks for: one they name, or the one
/// before the latest bill on record ("the bill before the latest one").
pub(super) fn requested_month(text: &str, messages: &[ChatMessage]) -> Option<u32> {
    slots::month(text).or_else(|| {
        if slots::paid_bill(text) {
            return latest_paid_on_record(messages);
        }
        if !slots::previous_bill(text) {
            return None;
        }
        let (_, latest) = latest_invoice_on_record(messages)?;
        Some(if latest == 1 { 12 } else { latest - 1 })
    })
}

/// The id of the invoice for `month` (1–12) in the latest `list_invoices` result.
pub(super) fn invoice_of_month(messages: &[ChatMessage], month: u32) -> Option<i64> {
    let suffix = format!("-{month:02}");
    messages.iter().rev().find_map(|m| {
        let ChatMessage::Tool { content, .. } = m else {
            return None;
        };
        let result: Value = serde_json::from_str(content).ok()?;
        result.get("invoices")?.as_array()?.iter().find_map(|i| {
            i["period"]
                .as_str()
                .filter(|p| p.ends_with(&suffix))
                .and_then(|_| i["id"].as_i64())
        })
    })
}

/// The invoices on the caller's billing record note (its last three bills, newest
/// first), as (id, month 1–12); `None` without a record.
pub(super) fn invoices_on_record(messages: &[ChatMessage]) -> Option<Vec<(i64, u32)>> {
    let facts = super::record::record_facts(messages)?;
    let invoices = facts.get("invoices")?.as_array()?;
    Some(
        invoices
            .iter()
            .filter_map(|inv| {
                let month = inv["period"].as_str()?.rsplit('-').next()?.parse().ok()?;
                Some((inv["id"].as_i64()?, month))
            })
            .collect(),
    )
}

/// The month (1–12) of the latest paid invoice on the caller's billing record.
fn latest_paid_on_record(messages: &[ChatMessage]) -> Option<u32> {
    let facts = super::record::record_facts(messages)?;
    facts.get("invoices")?.as_array()?.iter().find_map(|inv| {
        (inv["status"].as_str() == Some("paid"))
            .then(|| inv["period"].as_str()?.rsplit('-').next()?.parse().ok())
            .flatten()
    })
}

/// The id of the invoice for `month` (1–12) among those on the caller's billing
/// record, if any: no list needs fetching for it.
pub(super) fn invoice_on_record(messages: &[ChatMessage], month: u32) -> Option<i64> {
    invoices_on_record(messages)?
        .into_iter()
        .find_map(|(id, m)| (m == month).then_some(id))
}

/// The latest invoice (id, month 1–12) in the billing record note, if there is one.
pub(super) fn latest_invoice_on_record(messages: &[ChatMessage]) -> Option<(i64, u32)> {
    invoices_on_record(messages)?.first().copied()
}

/// Whether a `list_invoices` result is in `messages`.
pub(super) fn has_invoice_list(messages: &[ChatMessage]) -> bool {
    messages.iter().any(|m| {
        matches!(m, ChatMessage::Tool { content, .. }
            if serde_json::from_str::<Value>(content).is_ok_and(|v| v.get("invoices").is_some()))
    })
}

/// Whether the caller's turn already says what an intent of `tool` would ask for
/// (every group of its `given_when` named).
fn details_given(t: &Turn, tool: &str) -> bool {
    let joined = crate::agents::confirm::spaced(t.user_text);
    let holds = |p: &String| joined.contains(&crate::agents::confirm::spaced(p));
    t.spec.intents.iter().any(|i| {
        i.tool.as_deref() == Some(tool)
            && !i.given_when.is_empty()
            && i.given_when.iter().all(|group| group.iter().any(holds))
    })
}

/// Arguments whose values callers mention without choosing them: their phone and
/// their email come up when they describe a problem.
const INCIDENTAL_ARGS: &[&str] = &["channel"];

/// Whether our last question offered two or more of `options` ("by text message or by
/// email?"): the caller's next words answer it.
fn asked_to_choose(t: &Turn, options: &[String], synonyms: &Synonyms) -> bool {
    let Some(question) = super::last_question(&t.req.messages[..t.user_idx]) else {
        return false;
    };
    options
        .iter()
        .filter(|o| slots::choose(question, std::slice::from_ref(*o), synonyms).is_some())
        .count()
        >= 2
}

/// The one option our last question offered ("…Would you like to move to Pro?"), which
/// a yes accepts without naming it.
fn offered_option<'a>(t: &Turn, options: &'a [String], synonyms: &Synonyms) -> Option<&'a String> {
    let question = super::last_question(&t.req.messages[..t.user_idx])?;
    // (Its last sentence: a stop inside "$89.99" ends none.)
    let sentences = super::history::sentences(question);
    let last = sentences.last().copied().unwrap_or(question);
    let mut named = options
        .iter()
        .filter(|o| slots::choose(last, std::slice::from_ref(*o), synonyms).is_some());
    let one = named.next()?;
    named.next().is_none().then_some(one)
}

/// The caller's number as the runtime states it in a system message.
pub(super) fn caller_phone(messages: &[ChatMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        ChatMessage::System { content } => slots::phone(content),
        _ => None,
    })
}

/// The runtime said the calling number is withheld ("the calling number is unknown").
pub(super) fn number_withheld(messages: &[ChatMessage]) -> bool {
    messages.iter().any(|m| {
        matches!(m, ChatMessage::System { content } if content.contains("calling number is unknown"))
    })
}

/// The `enum` values of a tool parameter.
pub(super) fn enum_options(tools: &[ToolSpec], tool: &str, key: &str) -> Vec<String> {
    // (A tool of another agent — technical reading a plan named for billing's
    // `change_plan` — is read from the built-in tool's own definition.)
    let own = tools.iter().find(|t| t.name == tool).cloned();
    own.or_else(|| crate::agents::tools::spec(tool))
        .as_ref()
        .and_then(|t| t.parameters.pointer(&format!("/properties/{key}/enum")))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
