//! Billing tools that change the account: `issue_refund` and `change_plan`, each only
//! after the caller explicitly confirms.

use serde_json::{json, Value};

use super::{current_customer, not_identified, spoken_date, ToolContext, ToolOutput};
use crate::agents::confirm;
use crate::store::customers::{self, dollars};
use crate::store::StoreError;

pub(super) const ISSUE_REFUND: (&str, &str) = (
    "Refund a charge on the caller's account. Only after the caller has explicitly said yes to the exact \
     amount and charge: first ask, then call with confirmed=true. Returns needs_confirmation otherwise.",
    r#"{"type":"object","properties":{
        "charge_id":{"type":"integer","description":"The charge to refund (from find_duplicate_charges)"},
        "amount_cents":{"type":"integer","minimum":1,"description":"Amount in cents (default: the full charge)"},
        "reason":{"type":"string","description":"Why, e.g. duplicate charge"},
        "confirmed":{"type":"boolean","description":"True only if the caller explicitly confirmed this refund"}},
       "required":["charge_id","reason","confirmed"],"additionalProperties":false}"#,
);

pub(super) const CHANGE_PLAN: (&str, &str) = (
    "Move the caller to another plan (basic $39.99 100 Mbps, plus $59.99 500 Mbps, pro $89.99 1 Gbps). \
     Takes effect on the next bill. Only after the caller has said yes to the new plan and price: \
     first call without confirmed (returns needs_confirmation with the details to read out), then \
     call again with confirmed=true.",
    r#"{"type":"object","properties":{
        "plan":{"type":"string","enum":["basic","plus","pro"],"description":"The new plan"},
        "confirmed":{"type":"boolean","description":"True only if the caller explicitly agreed to this change"}},
       "required":["plan"],"additionalProperties":false}"#,
);

pub(super) async fn issue_refund(
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let Some(charge_id) = args.get("charge_id").and_then(Value::as_i64) else {
        return Ok(ToolOutput::error(
            "invalid_arguments",
            "charge_id (integer) is required",
        ));
    };
    let amount = args.get("amount_cents").and_then(Value::as_i64);
    let reason = args
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("customer request")
        .to_string();
    let cid = c.id;
    let Some(charge) = ctx
        .store
        .run(move |conn| customers::charge(conn, cid, charge_id))
        .await?
    else {
        return Ok(ToolOutput::error(
            "not_found",
            format!("charge {charge_id} is not on this account"),
        ));
    };
    let remaining = charge.amount_cents - charge.refunded_cents;
    let shown = dollars(amount.unwrap_or(remaining));
    let confirmed_flag = args
        .get("confirmed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !confirmed_flag || !confirm::agrees(&ctx.last_caller_text) {
        return Ok(ToolOutput::ok(json!({
            "status": "needs_confirmation",
            "charge_id": charge_id,
            "amount": shown,
            "date_spoken": spoken_date(&charge.charged_on),
            "detail": format!(
                "Ask the caller to confirm a refund of {shown} for the {} charge on {}, and call again with confirmed=true only after they say yes.",
                charge.description, spoken_date(&charge.charged_on)
            ),
        })));
    }
    let res = ctx
        .store
        .run(move |conn| customers::create_refund(conn, cid, charge_id, amount, &reason))
        .await?;
    let mut out = match res {
        Ok(r) => ToolOutput::ok(json!({
            "status": "refunded",
            "refund_id": r.id,
            "charge_id": r.charge_id,
            "amount": dollars(r.amount_cents),
            "to": charge.method,
            "arrives": "in 3 to 5 business days",
        })),
        Err(msg) => {
            // The store's reason is for the model; the caller hears what it means.
            let say = if msg.contains("already been fully refunded") {
                "That charge has already been refunded in full.".to_string()
            } else if msg.contains("amount must be between") {
                "I can't refund that amount on this charge.".to_string()
            } else {
                super::caller_phrase("refund_refused").to_string()
            };
            ToolOutput::error_saying("refund_refused", msg, say)
        }
    };
    out.customer_id = Some(c.id);
    Ok(out)
}

pub(super) async fn change_plan(ctx: &ToolContext, args: &Value) -> Result<ToolOutput, StoreError> {
    let Some(c) = current_customer(ctx).await? else {
        return Ok(not_identified());
    };
    let Some(plan) = args.get("plan").and_then(Value::as_str).map(str::to_string) else {
        return Ok(ToolOutput::error("invalid_arguments", "plan is required"));
    };
    let confirmed = args
        .get("confirmed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !confirmed || !confirm::agrees(&ctx.last_caller_text) {
        let code = plan.clone();
        let new = ctx
            .store
            .run(move |conn| customers::plan_by_code(conn, &code))
            .await?;
        let mut out = match new {
            Some(new) if new.code == c.plan.code => ToolOutput::error_saying(
                "plan_change_refused",
                format!("the customer is already on the {} plan", new.name),
                format!("You're already on the {} plan.", new.name),
            ),
            Some(new) => ToolOutput::ok(json!({
                "status": "needs_confirmation",
                "plan": new.code,
                "from": {"name": c.plan.name, "monthly": dollars(c.plan.monthly_cents), "speed_mbps": c.plan.speed_mbps},
                "to": {"name": new.name, "monthly": dollars(new.monthly_cents), "speed_mbps": new.speed_mbps},
                "effective": "right away; the new price starts on the next bill",
                "detail": "Read the new plan and price to the caller and call again with confirmed=true only after they say yes.",
            })),
            None => ToolOutput::error("invalid_arguments", format!("unknown plan `{plan}`")),
        };
        out.customer_id = Some(c.id);
        return Ok(out);
    }
    let cid = c.id;
    let res = ctx
        .store
        .run(move |conn| customers::change_plan(conn, cid, &plan))
        .await?;
    let mut out = match res {
        Ok((old, new)) => ToolOutput::ok(json!({
            "status": "changed",
            "from": {"name": old.name, "monthly": dollars(old.monthly_cents), "speed_mbps": old.speed_mbps},
            "to": {"name": new.name, "monthly": dollars(new.monthly_cents), "speed_mbps": new.speed_mbps},
            "effective": "right away; the new price starts on the next bill",
        })),
        Err(msg) => {
            let say = match msg.strip_prefix("the customer is already on the ") {
                Some(rest) => format!("You're already on the {rest}."),
                None => super::caller_phrase("plan_change_refused").to_string(),
            };
            ToolOutput::error_saying("plan_change_refused", msg, say)
        }
    };
    out.customer_id = Some(c.id);
    Ok(out)
}
