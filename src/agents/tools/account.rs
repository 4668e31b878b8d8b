//! Account tools: `lookup_customer`, `list_invoices`, `find_duplicate_charges`.

use serde_json::{json, Value};

use super::{
    current_customer, customer_json, not_identified, spoken_date, ToolContext, ToolOutput,
};
use crate::store::customers::{self, dollars, normalize_phone};
use crate::store::StoreError;

pub(super) const LOOKUP_CUSTOMER: (&str, &str) = (
    "Look up the caller's account: name, plan, status. Without arguments it uses the calling number. \
     For another number, the account's ZIP code is required.",
    r#"{"type":"object","properties":{
        "phone":{"type":"string","description":"Phone number on the account, if not the calling number"},
        "zip_code":{"type":"string","description":"ZIP code on the account (required with a different phone)"}},
       "additionalProperties":false}"#,
);

pub(super) const LIST_INVOICES: (&str, &str) = (
    "List the caller's most recent invoices (period, amount, due date, status).",
    r#"{"type":"object","properties":{
        "limit":{"type":"integer","minimum":1,"maximum":12,"description":"How many invoices, newest first (default 3)"}},
       "additionalProperties":false}"#,
);

pub(super) const SEND_INVOICE: (&str, &str) = (
    "Send the caller a copy of an invoice (default: the latest) by email or text message.",
    r#"{"type":"object","properties":{
        "channel":{"type":"string","enum":["email","sms"],"description":"Where to send it"},
        "invoice_id":{"type":"integer","description":"Which invoice (from list_invoices); default the latest"}},
       "required":["channel"],"additionalProperties":false}"#,
);

pub(super) const FIND_DUPLICATES: (&str, &str) = (
    "Find duplicate charges on the caller's account (same day, amount and description).",
    r#"{"type":"object","properties":{},"additionalProperties":false}"#,
);

pub(super) async fn lookup_customer(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let asked = args
        .get("phone")
        .and_then(Value::as_str)
        .map(normalize_phone);
    let caller = ctx.phone.as_deref().map(normalize_phone);
    let other_number = matches!((&asked, &caller), (Some(a), c) if Some(a) != c.as_ref());
    let found = if other_number {
        let phone = asked.clone().unwrap_or_default();
        let c = ctx
            .store
            .run(move |c| customers::customer_by_phone(c, &phone))
            .await?;
        let zip = args
            .get("zip_code")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        match c {
            Some(c) if zip.is_empty() => {
                let _ = c;
                return Ok(ToolOutput::error(
                    "verification_required",
                    "Ask for the ZIP code on the account, then call again with zip_code.",
                ));
            }
            Some(c) if c.zip != zip => {
                return Ok(ToolOutput::error(
                    "verification_failed",
                    "That ZIP code does not match the account.",
                ));
            }
            other => other,
        }
    } else {
        current_customer(ctx).await?
    };
    Ok(match found {
        Some(c) => {
            let mut out = ToolOutput::ok(json!({"found": true, "customer": customer_json(&c)}));
            out.customer_id = Some(c.id);
            out
        }
        None => {
            ToolOutput::ok(json!({"found": false, "detail": "No account with that phone number."}))
        }
    })
}

pub(super) async fn list_invoices(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(3)
        .clamp(1, 12) as usize;
    let id = c.id;
    let invoices = ctx
        .store
        .run(move |conn| customers::invoices(conn, id, limit))
        .await?;
    let list: Vec<Value> = invoices.iter().map(invoice_json).collect();
    let mut out = ToolOutput::ok(json!({"customer": c.name, "invoices": list}));
    out.customer_id = Some(c.id);
    Ok(out)
}

pub(super) async fn send_invoice(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let Some(channel) = super::support::delivery_channel(args) else {
        return Ok(ToolOutput::error(
            "invalid_arguments",
            "channel must be email or sms",
        ));
    };
    let wanted = args.get("invoice_id").and_then(Value::as_i64);
    let id = c.id;
    let invoices = ctx
        .store
        .run(move |conn| customers::invoices(conn, id, 12))
        .await?;
    let invoice = match wanted {
        Some(w) => invoices.iter().find(|i| i.id == w),
        None => invoices.first(),
    };
    let Some(i) = invoice else {
        return Ok(ToolOutput::error(
            "not_found",
            "There is no such invoice on this account.",
        ));
    };
    let mut out = ToolOutput::ok(json!({
        "status": "sent",
        "channel": channel,
        "destination": super::support::spoken_destination(&c, channel),
        "invoice": {"id": i.id, "period": i.period, "issued_spoken": spoken_date(&i.issued_on),
                    "amount": dollars(i.amount_cents), "status_spoken": spoken_status(&i.status)},
    }));
    out.customer_id = Some(c.id);
    Ok(out)
}

pub(super) async fn find_duplicate_charges(ctx: &ToolContext) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let id = c.id;
    let dups = ctx
        .store
        .run(move |conn| customers::duplicate_charges(conn, id))
        .await?;
    let list: Vec<Value> = dups.iter().map(duplicate_json).collect();
    let mut out = ToolOutput::ok(json!({"count": list.len(), "duplicates": list}));
    out.customer_id = Some(c.id);
    Ok(out)
}

/// An invoice as the model sees it (in `list_invoices` and the billing record).
pub(crate) fn invoice_json(i: &customers::Invoice) -> Value {
    let mut out = json!({"id": i.id, "period": i.period, "issued_on": i.issued_on, "issued_spoken": spoken_date(&i.issued_on),
           "due_on": i.due_on, "amount": dollars(i.amount_cents), "status": i.status,
           "status_spoken": spoken_status(&i.status)});
    // (When a bill still to pay was due matters; a paid one's does not.)
    if i.status != "paid" {
        out["due_spoken"] = json!(spoken_date(&i.due_on));
    }
    out
}

/// A duplicate-charge group as the model sees it.
pub(crate) fn duplicate_json(d: &customers::DuplicateCharge) -> Value {
    json!({
        "date": d.charged_on,
        "date_spoken": spoken_date(&d.charged_on),
        "amount": dollars(d.amount_cents),
        "times": d.charge_ids.len(),
        "description": d.description,
        "charge_ids": d.charge_ids,
        "refundable_charge_ids": d.refundable_ids,
    })
}

/// An invoice status as said aloud ("past_due" → "past due").
fn spoken_status(status: &str) -> String {
    status.replace('_', " ")
}
