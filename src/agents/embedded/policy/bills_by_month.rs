//! Bills asked for by month, beyond one bill that exists: a month whose bill is not
//! issued yet ("could you text me the March bill?" when February's is the latest: said
//! so, and the latest offered instead — never sent unasked), several months in one
//! request ("the January bill and the February bill, both of them, by email": one
//! `send_invoice` per bill, each on the channel named with it, else the one just used),
//! a bill asked for a number that is not the account's (refused; the channels on file
//! offered), and a question about the channel just used.

use serde_json::{json, Value};

use super::*;
use crate::agents::embedded::spec::IntentSpec;

/// The question that ends the line offering the latest bill instead of one not issued.
pub(super) const NOT_ISSUED_QUESTION: &str = "Shall I send you that one instead?";

/// How many months past the latest bill a named month counts as not issued yet (a
/// month further on, or one before the bills we know of, needs the full list).
const MONTHS_AHEAD: u32 = 2;

/// The intent sends an invoice of the month named (an `$invoice` argument).
pub(super) fn sends_invoice(intent: &IntentSpec) -> bool {
    intent
        .args
        .values()
        .any(|v| v.as_str().is_some_and(|s| s.starts_with("$invoice")))
}

/// The latest bill known in the call: the newest on the caller's billing record or in
/// a fetched `list_invoices` result, in `list_invoices`' shape.
fn latest_known_invoice(messages: &[ChatMessage]) -> Option<Value> {
    let mut known: Vec<Value> = record::record_facts(messages)
        .and_then(|f| f.get("invoices").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    for m in messages {
        let ChatMessage::Tool { content, .. } = m else {
            continue;
        };
        let Ok(result) = serde_json::from_str::<Value>(content) else {
            continue;
        };
        if let Some(list) = result.get("invoices").and_then(Value::as_array) {
            known.extend(list.iter().cloned());
        }
    }
    known
        .into_iter()
        .filter(|i| i["period"].is_string())
        .max_by(|a, b| a["period"].as_str().cmp(&b["period"].as_str()))
}

/// The month (1–12) of an invoice's `period` ("2026-02" → 2).
fn period_month(invoice: &Value) -> Option<u32> {
    invoice["period"].as_str()?.rsplit('-').next()?.parse().ok()
}

/// The id of the bill for `month` known in the call (record or fetched list).
fn known_bill(messages: &[ChatMessage], month: u32) -> Option<i64> {
    args::invoice_on_record(messages, month).or_else(|| args::invoice_of_month(messages, month))
}

impl Policy {
    /// The caller names a month just after the latest bill known ("the March bill"
    /// when February's is the newest): nothing is sent; we say there is none yet and
    /// offer the latest.
    pub(super) fn bill_not_issued(&self, t: &Turn, intent: &IntentSpec) -> Option<Decision> {
        if !sends_invoice(intent) {
            return None;
        }
        let msgs = &t.req.messages;
        let month = slots::month(t.user_text)?;
        // "The bill that's due in April" names a due date, not the bill's month.
        let said = confirm::spaced(t.user_text);
        if said.contains(" due in ") || said.contains(" due on ") || said.contains(" due by ") {
            return None;
        }
        if known_bill(msgs, month).is_some() {
            return None;
        }
        let latest = latest_known_invoice(msgs)?;
        let ahead = (month + 12 - period_month(&latest)?) % 12;
        if !(1..=MONTHS_AHEAD).contains(&ahead) {
            return None;
        }
        let name = crate::calendar::MONTHS.get(month as usize - 1)?;
        Some(Decision::Say(format!(
            "I don't see a {name} bill yet; the latest one is your {} invoice for {}. {NOT_ISSUED_QUESTION}",
            latest["issued_spoken"].as_str()?,
            latest["amount"].as_str()?,
        )))
    }

    /// The caller's answer to [`NOT_ISSUED_QUESTION`]: a yes (or the latest month
    /// named) sends the latest bill, on the channel named now or in the request.
    pub(super) fn latest_bill_accepted(&self, t: &Turn) -> Option<Decision> {
        let before = &t.req.messages[..t.user_idx];
        let said = last_spoken(before)?;
        if !said.trim_end().ends_with(NOT_ISSUED_QUESTION) {
            return None;
        }
        let latest = latest_known_invoice(before)?;
        let names_latest = slots::month(t.user_text) == period_month(&latest);
        if confirm::refuses(t.user_text) && !names_latest {
            return Some(
                self.goodbye(t)
                    .unwrap_or_else(|| Decision::Say(declined_text(t.spec))),
            );
        }
        if !(names_latest || confirm::accepts(t.user_text)) {
            return None;
        }
        let intent = t.spec.intents.iter().find(|i| sends_invoice(i))?;
        let tool = intent.tool.as_deref()?;
        match self.act(t, intent, None) {
            Decision::Call {
                say,
                name,
                mut arguments,
            } if name == tool => {
                arguments["invoice_id"] = latest["id"].clone();
                Some(Decision::Call {
                    say,
                    name,
                    arguments,
                })
            }
            other => Some(other),
        }
    }

    /// After a bill was sent: another month named in the same request and not sent yet
    /// is sent too, on the same channel; `report` (what was just sent) is said first.
    pub(super) fn more_bills(
        &self,
        t: &Turn,
        tool: &str,
        result: &Value,
        report: &str,
    ) -> Option<Decision> {
        if tool != SEND_INVOICE || lookup(result, "status").and_then(Value::as_str) != Some("sent")
        {
            return None;
        }
        let msgs = &t.req.messages;
        // The request that named the months: this turn, or the one a question about
        // the channel interrupted.
        let invoice_intent = t.spec.intents.iter().find(|i| sends_invoice(i));
        let options = args::enum_options(&t.req.tools, SEND_INVOICE, "channel");
        // Each month with the words that asked for it ("January by text. And
        // February by email.").
        let (asked_at, months) = msgs[..=t.user_idx]
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, m)| match m {
                ChatMessage::User { content } => {
                    let together: Vec<(u32, String)> = slots::months_together(content)
                        .into_iter()
                        .map(|m| (m, String::new()))
                        .collect();
                    // A month in a sentence of its own counts when that sentence
                    // says how to send it ("I got the January one fine. Can you
                    // text me February?" asks for one bill).
                    let mut asked = if together.is_empty() {
                        let stated = |words: &str| {
                            invoice_intent.is_some_and(|i| {
                                slots::choose_stated(words, &options, &i.synonyms).is_some()
                            })
                        };
                        let mut by_sentence = slots::months_by_sentence(content);
                        by_sentence.retain(|(_, words)| stated(words));
                        by_sentence
                    } else {
                        together
                    };
                    // "Can you email me the last three?": the latest bills on record.
                    if asked.is_empty() && slots::month(content).is_none() {
                        let latest = slots::bills_counted(content)
                            .zip(args::invoices_on_record(msgs))
                            .map(|(n, invoices)| {
                                invoices
                                    .iter()
                                    .take(n)
                                    .map(|(_, m)| (*m, String::new()))
                                    .collect::<Vec<_>>()
                            });
                        if let Some(latest) = latest {
                            asked = latest;
                        }
                    }
                    Some((i, asked))
                }
                _ => None,
            })
            .take(4)
            .find(|(_, months)| months.len() > 1)?;
        // An earlier turn counts only when our question about this same request came
        // between ("…January and February." "Email or text?" "Email."), or the account
        // was verified for it (the number and ZIP asked and given).
        if asked_at < t.user_idx {
            let between = &msgs[asked_at + 1..t.user_idx];
            let asked_channel = between.iter().any(|m| {
                matches!(m, ChatMessage::Assistant { content: Some(c), .. }
                    if invoice_intent.is_some_and(|i| i.asks(c)))
            });
            let verified = super::history::called(&msgs[asked_at + 1..], "lookup_customer")
                && !super::history::called(between, SEND_INVOICE);
            if !asked_channel && !verified {
                return None;
            }
        }
        let sent: Vec<u32> = msgs[asked_at..]
            .iter()
            .filter_map(|m| match m {
                ChatMessage::Tool {
                    tool_call_id,
                    content,
                } if find_call(msgs, tool_call_id).is_some_and(|(n, _)| n == SEND_INVOICE) => {
                    let r: Value = serde_json::from_str(content).ok()?;
                    period_month(r.get("invoice")?)
                }
                _ => None,
            })
            .collect();
        let (month, id, words) = months
            .iter()
            .filter(|(m, _)| !sent.contains(m))
            .find_map(|(m, words)| known_bill(msgs, *m).map(|id| (*m, id, words)))?;
        let last_args = last_call_of(msgs, SEND_INVOICE)?;
        let last: Value = serde_json::from_str(&last_args).unwrap_or_default();
        // The channel named with this month, else the one just used.
        let channel = invoice_intent
            .and_then(|i| slots::choose_stated(words, &options, &i.synonyms))
            .map(|c| json!(c))
            .unwrap_or_else(|| last["channel"].clone());
        tracing::debug!(month, id, "another month of the same request");
        Some(Decision::Call {
            say: Some(report.to_string()),
            name: SEND_INVOICE.into(),
            arguments: json!({ "channel": channel, "invoice_id": id }),
        })
    }
}

const SEND_INVOICE: &str = "send_invoice";

/// A report after another one this turn drops its leading "Done." ("Done. I've sent
/// your February… I've sent your January…").
pub(super) fn once_done(t: &Turn, text: String) -> String {
    let said_done = t.req.messages[t.user_idx..].iter().any(|m| {
        matches!(m, ChatMessage::Assistant { content: Some(c), .. } if c.trim_start().starts_with("Done."))
    });
    match text.strip_prefix("Done. ") {
        Some(rest) if said_done => rest.to_string(),
        _ => text,
    }
}

/// Said when the caller asks for a bill to go to a number that is not the account's.
const ONLY_ON_FILE: &str =
    "I can only send it to the phone number or the email address on the account, not anywhere else.";

impl Policy {
    /// "Could you text the bill to his phone instead of mine? His number is…": bills go
    /// only to the account's own phone or email; say so, and ask which (nothing sent).
    pub(super) fn to_another_number(&self, t: &Turn, intent: &IntentSpec) -> Option<Decision> {
        // (An invoice or a reset link: both go only where the account says.)
        let sends = sends_invoice(intent) || intent.tool.as_deref() == Some("reset_password");
        if !sends {
            return None;
        }
        // Acting for someone else's account and asking for it to be sent to oneself,
        // with the channel named ("…her March bill sent to me at my email"): it goes to
        // the account's own, on that channel, and we say so.
        if super::account_details::to_caller_for_another(t) {
            let text = super::account_details::without_caller_destination(t.user_text);
            let tool = intent.tool.as_deref()?;
            let options = args::enum_options(&t.req.tools, tool, "channel");
            if let Some(channel) = slots::choose(&text, &options, &intent.synonyms) {
                let own = Turn {
                    user_text: &text,
                    ..*t
                };
                let step = self.act(&own, intent, None);
                let place = if channel == "sms" {
                    "phone"
                } else {
                    "email address"
                };
                let said = format!(
                    "I can only send it to the {place} on that account, not to yours, so that's where it goes."
                );
                return Some(super::serving::with_prefix(Some(&said), step));
            }
        }
        let elsewhere = slots::elsewhere_destination(t.user_text)
            || super::account_details::to_caller_for_another(t);
        if !elsewhere {
            return None;
        }
        let question = intent.ask_again.as_deref().or(intent.ask.as_deref())?;
        Some(Decision::Say(format!("{ONLY_ON_FILE} {question}")))
    }

    /// "They are both going to the email, yes?": a question about the step just done
    /// that names the channel it used (and asks for nothing new) is answered by its
    /// `again` line, not routed as a new request; so is a short "send it there" right
    /// after it was sent.
    pub(super) fn asks_about_channel_used(&self, t: &Turn) -> Option<Decision> {
        let before = &t.req.messages[..t.user_idx];
        // "I got the text but the link says it's expired?" reports a problem.
        const TROUBLE: &[&str] = &[
            "expired", "expire", "expires", "work", "works", "working", "broken", "wrong", "error",
            "invalid", "never", "didn't", "doesn't", "isn't", "can't", "won't",
        ];
        // ("Fine, whichever it is, send it there" right after it was sent asks for
        // the same step, done: its `again` line.)
        let ws = confirm::words(t.user_text);
        let send_it = ws.len() <= 12
            && !ws
                .iter()
                .any(|w| matches!(w.as_str(), "again" | "nothing" | "not" | "never"))
            && confirm::says_any(
                t.user_text,
                &[
                    "send it there",
                    "send it to that",
                    "send it to it",
                    "just send it",
                ],
            );
        let asks = t.user_text.contains('?') && !confirm::makes_request(t.user_text);
        if !(asks || send_it)
            || slots::month(t.user_text).is_some()
            || confirm::words(t.user_text)
                .iter()
                .any(|w| TROUBLE.contains(&w.as_str()))
        {
            return None;
        }
        // The latest step done (handoffs aside) and its channel.
        let (tool, args) = before.iter().rev().find_map(|m| match m {
            ChatMessage::Assistant { tool_calls, .. } => tool_calls
                .iter()
                .rev()
                .find(|c| !c.name.starts_with("transfer_to_"))
                .map(|c| (c.name.clone(), c.arguments.clone())),
            _ => None,
        })?;
        let channel = serde_json::from_str::<Value>(&args).ok()?["channel"]
            .as_str()?
            .to_string();
        let intent = t
            .spec
            .intents
            .iter()
            .find(|i| i.tool.as_deref() == Some(tool.as_str()) && i.again.is_some())?;
        let options = args::enum_options(&t.req.tools, &tool, "channel");
        // (The channel named in the question itself: "your text last week said I owe
        // you something. How much is it?" asks nothing about the channel.)
        let questions: String = t
            .user_text
            .split_inclusive(['.', '!', '?'])
            .filter(|s| s.trim_end().ends_with('?'))
            .collect();
        let named = if asks && !send_it {
            slots::choose(&questions, &options, &intent.synonyms)
        } else {
            slots::choose(t.user_text, &options, &intent.synonyms)
        };
        let again = intent.again.clone()?;
        let same = match named {
            Some(named) => *named == channel,
            None => send_it,
        };
        same.then_some(Decision::Say(again))
    }
}
