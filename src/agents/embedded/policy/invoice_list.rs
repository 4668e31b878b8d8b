//! The bill of a month the caller names (`$invoice`: "my February bill, not March"):
//! the invoice list looked up first when no list or record shows that month, the month
//! asked for an older bill left unnamed, another month added after one was sent
//! ("bung March in as well"), and the request served once the list is in.

use serde_json::json;

use super::{args, confirm, has_tool, Decision, Policy, Turn};
use crate::agents::embedded::embedder::Embedder;
use crate::agents::embedded::slots;
use crate::agents::embedded::spec::IntentSpec;
use crate::agents::model::{ChatMessage, ModelError};

impl Policy {
    /// `list_invoices` first when `intent` sends an invoice (`$invoice` argument), the
    /// caller named a month, and no list fetched in the call shows it (nor one this turn).
    pub(super) fn invoice_list_first(&self, t: &Turn, intent: &IntentSpec) -> Option<Decision> {
        let wants_invoice = intent
            .args
            .values()
            .any(|v| v.as_str().is_some_and(|s| s.starts_with("$invoice")));
        let month = args::requested_month(t.user_text, &t.req.messages)?;
        let on_record = args::invoice_on_record(&t.req.messages, month).is_some();
        (wants_invoice
            && !on_record
            && args::invoice_of_month(&t.req.messages, month).is_none()
            && !args::has_invoice_list(&t.req.messages[t.user_idx..])
            && has_tool(&t.req.tools, LIST_INVOICES))
        .then(|| Decision::Call {
            say: None,
            name: LIST_INVOICES.into(),
            arguments: json!({ "limit": 12 }),
        })
    }

    /// "Email me one of my old statements": an older bill with no month named in the
    /// call's requests so far — asked which month before anything is sent (the
    /// latest would be the wrong one).
    pub(super) fn older_bill_month_first(&self, t: &Turn, intent: &IntentSpec) -> Option<Decision> {
        let ask = intent.ask_month.as_ref()?;
        if !slots::older_bill_unnamed(t.user_text) {
            return None;
        }
        // Answered already ("The January one.") in a later line.
        let lines = super::history::caller_lines(&t.req.messages[..=t.user_idx]);
        if lines
            .iter()
            .any(|l| args::requested_month(l, &t.req.messages).is_some())
        {
            return None;
        }
        Some(Decision::Say(ask.clone()))
    }

    /// "Bung March in as well": a month named with "as well", "too" or "also" after
    /// this agent sent an invoice in the call — the same request, for that month.
    pub(super) fn invoice_for_another_month(&self, t: &Turn) -> Option<Decision> {
        slots::month(t.user_text)?;
        if !confirm::says_any(t.user_text, &["as well", "too", "also", "another"]) {
            return None;
        }
        let before = &t.req.messages[..t.user_idx];
        let intent = t.spec.intents.iter().find(|i| {
            let sends = i
                .args
                .values()
                .any(|v| v.as_str().is_some_and(|s| s.starts_with("$invoice")));
            sends
                && i.tool
                    .as_deref()
                    .is_some_and(|tool| super::history::called(before, tool))
        })?;
        Some(self.act(t, intent, None))
    }

    /// After the invoice list fetched for a named month: go on with the intent that
    /// needed it.
    pub(super) fn after_invoice_list(
        &self,
        embedder: &Embedder,
        t: &Turn,
        tool: &str,
    ) -> Result<Option<Decision>, ModelError> {
        if tool != LIST_INVOICES {
            return Ok(None);
        }
        // The line that named the month: this turn, or the request a verification
        // ("the number on it is…, ZIP…") interrupted.
        let asked = super::history::caller_lines(&t.req.messages[..=t.user_idx])
            .into_iter()
            .take(3)
            .find(|c| args::requested_month(c, &t.req.messages).is_some());
        let Some(asked) = asked else {
            return Ok(None);
        };
        // That request was served already (a list fetched later for "is there anything
        // I still owe?" sends nothing again).
        let asked_at = t.req.messages[..=t.user_idx]
            .iter()
            .rposition(|m| matches!(m, ChatMessage::User { content } if content == asked));
        if asked_at.is_some_and(|i| super::history::called(&t.req.messages[i..], "send_invoice")) {
            return Ok(None);
        }
        let ranked = self.rank_turn(embedder, asked)?;
        let routing = self.pick(&ranked, |s| s.intent.agent == t.req.agent);
        let Some(best) = routing.best.filter(|_| routing.owner.is_some()) else {
            return Ok(None);
        };
        let intent = &t.spec.intents[best.intent.index];
        let sends = intent
            .args
            .values()
            .any(|v| v.as_str().is_some_and(|s| s.starts_with("$invoice")));
        // (Acted on the line that asked: its channel and destination.)
        let request = Turn {
            user_text: asked,
            ..*t
        };
        Ok(sends.then(|| self.act(&request, intent, None)))
    }
}

const LIST_INVOICES: &str = "list_invoices";
