//! Support tools: `check_service_status`, `reset_password`, `open_ticket`, `end_call`.

use serde_json::{json, Value};

use super::{current_customer, not_identified, ToolContext, ToolOutput};
use crate::store::customers;
use crate::store::StoreError;

pub(super) const SERVICE_STATUS: (&str, &str) = (
    "Check for outages, degradations or maintenance in the caller's area (or a named region).",
    r#"{"type":"object","properties":{
        "region":{"type":"string","description":"Region or city; default: the caller's"}},
       "additionalProperties":false}"#,
);

pub(super) const RESET_PASSWORD: (&str, &str) = (
    "Send the caller a password-reset link for their online account.",
    r#"{"type":"object","properties":{
        "channel":{"type":"string","enum":["sms","email"],"description":"Where to send the link (default sms)"}},
       "additionalProperties":false}"#,
);

pub(super) const OPEN_TICKET: (&str, &str) = (
    "Open a support ticket so the team follows up (when the problem can't be solved on this call).",
    r#"{"type":"object","properties":{
        "category":{"type":"string","enum":["billing","technical","account","other"]},
        "summary":{"type":"string","description":"One or two sentences describing the problem"}},
       "required":["category","summary"],"additionalProperties":false}"#,
);

pub(super) const END_CALL: (&str, &str) = (
    "End the call after saying goodbye, when the caller has nothing else.",
    r#"{"type":"object","properties":{
        "reason":{"type":"string","description":"Why the call ends, e.g. resolved"}},
       "additionalProperties":false}"#,
);

pub(super) async fn check_service_status(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let customer = current_customer(ctx).await?;
    let region = args
        .get("region")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| customer.as_ref().map(|c| c.region.clone()));
    let Some(region) = region else {
        return Ok(ToolOutput::error(
            "region_unknown",
            "Ask which city or area the caller is in.",
        ));
    };
    let r = region.clone();
    let statuses = ctx
        .store
        .run(move |c| customers::service_status(c, Some(&r)))
        .await?;
    let services: Vec<Value> = statuses
        .iter()
        .map(|s| json!({"service": s.service, "status": s.status, "message": s.message, "since": s.since}))
        .collect();
    let all_ok = statuses.iter().all(|s| s.status == "ok");
    let mut out = ToolOutput::ok(json!({
        "region": region,
        "known_region": !statuses.is_empty(),
        "all_ok": all_ok,
        "services": services,
    }));
    out.customer_id = customer.map(|c| c.id);
    Ok(out)
}

pub(super) async fn reset_password(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let channel = delivery_channel(args).unwrap_or("sms");
    let id = c.id;
    ctx.store
        .run(move |conn| customers::record_password_reset(conn, id, channel))
        .await?;
    let destination = spoken_destination(&c, channel);
    let mut out = ToolOutput::ok(
        json!({"status": "sent", "channel": channel, "destination": destination, "expires_in": "30 minutes"}),
    );
    out.customer_id = Some(c.id);
    Ok(out)
}

pub(super) async fn open_ticket(ctx: &ToolContext, args: &Value) -> Result<ToolOutput, StoreError> {
    let category = args
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or("other")
        .to_string();
    let Some(summary) = args
        .get("summary")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Ok(ToolOutput::error(
            "invalid_arguments",
            "summary is required",
        ));
    };
    let customer = current_customer(ctx).await?;
    let cid = customer.as_ref().map(|c| c.id);
    let t = ctx
        .store
        .run(move |conn| customers::open_ticket(conn, cid, &category, &summary))
        .await?;
    let mut out = ToolOutput::ok(
        json!({"ticket_id": t.id, "status": t.status, "follow_up": "within one business day"}),
    );
    out.customer_id = cid;
    Ok(out)
}

pub(super) fn end_call(args: &Value) -> Result<ToolOutput, StoreError> {
    let reason = args
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("resolved");
    let mut out = ToolOutput::ok(json!({"status": "ending", "reason": reason}));
    out.end_call = true;
    Ok(out)
}

/// Where something sent to the customer goes, as it can be said aloud without reading
/// out personal data: "the email address at example.com", "the phone number ending 0001".
pub(super) fn spoken_destination(c: &customers::Customer, channel: &str) -> String {
    if channel == "email" {
        let domain = c.email.split('@').nth(1).unwrap_or("");
        format!("the email address at {domain}")
    } else {
        format!(
            "the phone number ending {}",
            &c.phone[c.phone.len().saturating_sub(4)..]
        )
    }
}

/// The `channel` argument of a tool that sends the caller something: `email` or `sms`.
pub(super) fn delivery_channel(args: &Value) -> Option<&'static str> {
    match args.get("channel").and_then(Value::as_str) {
        Some("email") => Some("email"),
        Some("sms") => Some("sms"),
        _ => None,
    }
}
