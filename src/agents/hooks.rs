//! `on_handoff` hooks: work done before the receiving agent speaks, whose result is
//! injected as a system message. `fetch_billing_record` finds the caller by phone
//! number and gives billing their plan, recent charges and any duplicate charges;
//! `fetch_caller_identity` only says whether the calling number matches an account
//! (for an agent that needs no billing facts, so it knows before any tool whether to
//! ask for the account's phone number and ZIP).

use serde_json::json;

use crate::agents::tools::{spoken_date, ToolContext};
use crate::store::customers::{self, dollars};
use crate::store::StoreError;

/// Hook names a `[[handoffs]]` entry may use as `on_handoff`.
pub const KNOWN_HOOKS: &[&str] = &["fetch_billing_record", "fetch_caller_identity"];

/// How many of the latest invoices and charges the billing record lists; a shorter
/// list is the account's whole history.
pub const RECORD_INVOICES: usize = 3;
pub const RECORD_CHARGES: usize = 5;

/// The most items the billing record lists under `key`, or `None` when it lists all.
pub fn record_cap(key: &str) -> Option<usize> {
    match key {
        "invoices" => Some(RECORD_INVOICES),
        "recent_charges" => Some(RECORD_CHARGES),
        _ => None,
    }
}

/// Prefix of the system message `fetch_billing_record` injects.
pub const BILLING_RECORD_PREFIX: &str = "Billing record for this caller";

/// Prefix of the system message `fetch_caller_identity` injects.
pub const CALLER_IDENTITY_PREFIX: &str = "Caller identity";

/// What a hook produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookOutput {
    /// Injected into the history before the target speaks.
    pub system_message: Option<String>,
    /// The customer the hook identified.
    pub customer_id: Option<i64>,
}

/// Run a hook by name (unknown names were rejected at load time).
pub async fn run(name: &str, ctx: &ToolContext) -> Result<HookOutput, StoreError> {
    match name {
        "fetch_billing_record" => fetch_billing_record(ctx).await,
        "fetch_caller_identity" => fetch_caller_identity(ctx).await,
        _ => Ok(HookOutput::default()),
    }
}

/// Look up the caller's billing record and describe it. The message has a readable
/// summary and, on its last line, `json: {...}` with the same facts for the
/// embedded brain.
pub async fn fetch_billing_record(ctx: &ToolContext) -> Result<HookOutput, StoreError> {
    let customer = crate::agents::tools::current_customer(ctx).await?;
    let Some(c) = customer else {
        let number = ctx.phone.clone().unwrap_or_else(|| "unknown".into());
        return Ok(HookOutput {
            system_message: Some(format!(
                "{BILLING_RECORD_PREFIX}: no account matches the calling number ({number}). \
                 Ask for the phone number on the account and its ZIP code, then use lookup_customer.\njson: {}",
                json!({"found": false, "phone": number})
            )),
            customer_id: None,
        });
    };
    let id = c.id;
    let (charges, dups, invoices) = ctx
        .store
        .run(move |conn| {
            Ok((
                customers::charges(conn, id, RECORD_CHARGES)?,
                customers::duplicate_charges(conn, id)?,
                customers::invoices(conn, id, RECORD_INVOICES)?,
            ))
        })
        .await?;
    let mut text = format!(
        "{BILLING_RECORD_PREFIX} (from the account system, not said by the caller): {} (phone {}), {} plan at {} a month, account {}.",
        c.name,
        c.phone,
        c.plan.name,
        dollars(c.plan.monthly_cents),
        c.status.replace('_', " ")
    );
    let recent: Vec<String> = charges
        .iter()
        .map(|ch| {
            let refunded = if ch.refunded_cents > 0 {
                format!(", {} refunded", dollars(ch.refunded_cents))
            } else {
                String::new()
            };
            format!(
                "{} {} for {} (charge {}{refunded})",
                spoken_date(&ch.charged_on),
                dollars(ch.amount_cents),
                ch.description,
                ch.id
            )
        })
        .collect();
    if !recent.is_empty() {
        text.push_str(&format!(" Recent charges: {}.", recent.join("; ")));
    }
    for d in &dups {
        text.push_str(&format!(
            " Duplicate charge: {} charged {} times on {} for {} (charges {}; refundable: {}).",
            dollars(d.amount_cents),
            d.charge_ids.len(),
            spoken_date(&d.charged_on),
            d.description,
            join_ids(&d.charge_ids),
            if d.refundable_ids.is_empty() {
                "none, already refunded".to_string()
            } else {
                join_ids(&d.refundable_ids)
            }
        ));
    }
    if let Some(i) = invoices.iter().find(|i| i.status != "paid") {
        text.push_str(&format!(
            " Unpaid invoice: {} for {} due {} ({}).",
            dollars(i.amount_cents),
            i.period,
            spoken_date(&i.due_on),
            i.status.replace('_', " ")
        ));
    }
    let facts = json!({
        "found": true,
        "customer": crate::agents::tools::customer_json(&c),
        "recent_charges": charges.iter().map(|ch| json!({
            "id": ch.id, "date": ch.charged_on, "date_spoken": spoken_date(&ch.charged_on),
            "amount": dollars(ch.amount_cents), "description": ch.description, "refunded": dollars(ch.refunded_cents),
        })).collect::<Vec<_>>(),
        "duplicates": dups.iter().map(crate::agents::tools::duplicate_json).collect::<Vec<_>>(),
        "invoices": invoices.iter().map(crate::agents::tools::invoice_json).collect::<Vec<_>>(),
    });
    text.push_str(&format!("\njson: {facts}"));
    Ok(HookOutput {
        system_message: Some(text),
        customer_id: Some(c.id),
    })
}

/// Whether the calling number matches an account, and whose (name and plan only).
/// The message has a readable part and a `json:` line (`{"found": bool, …}`).
pub async fn fetch_caller_identity(ctx: &ToolContext) -> Result<HookOutput, StoreError> {
    let customer = crate::agents::tools::current_customer(ctx).await?;
    let Some(c) = customer else {
        let number = ctx.phone.clone().unwrap_or_else(|| "unknown".into());
        return Ok(HookOutput {
            system_message: Some(format!(
                "{CALLER_IDENTITY_PREFIX}: no account matches the calling number ({number}). \
                 Before anything that needs the account, ask for the phone number on it and its ZIP code, then use lookup_customer.\njson: {}",
                json!({"found": false, "phone": number})
            )),
            customer_id: None,
        });
    };
    Ok(HookOutput {
        system_message: Some(format!(
            "{CALLER_IDENTITY_PREFIX} (from the account system, not said by the caller): this call is on the account of {}, {} plan.\njson: {}",
            c.name,
            c.plan.name,
            json!({
                "found": true,
                "name": c.name,
                "plan": c.plan.code,
                // What the calling line is (no billing facts): where it is served and
                // what the plan gives, so a healthy-line answer needs no lookup.
                "region": c.region,
                "plan_details": {
                    "code": c.plan.code,
                    "name": c.plan.name,
                    "monthly": crate::store::customers::dollars(c.plan.monthly_cents),
                    "speed_mbps": c.plan.speed_mbps,
                },
            })
        )),
        customer_id: Some(c.id),
    })
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
