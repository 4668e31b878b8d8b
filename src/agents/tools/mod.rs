//! The agents' tools: JSON-schema specs and execution against the store.
//!
//! Tools act on the *identified* customer only (the caller's number, or an account
//! verified by `lookup_customer`), never on ids the model invents. Ownership (which
//! agent may call which tool) is enforced by the runner, not here.

mod account;
mod billing;
mod support;

pub(crate) use account::{duplicate_json, invoice_json};

use serde_json::{json, Value};

use crate::agents::model::ToolSpec;
use crate::calendar::MONTHS;
use crate::store::customers::{self, Customer};
use crate::store::{Store, StoreError};

/// Every tool an agent may list in its front matter.
pub const KNOWN_TOOLS: &[&str] = &[
    "lookup_customer",
    "list_invoices",
    "send_invoice",
    "find_duplicate_charges",
    "issue_refund",
    "change_plan",
    "check_service_status",
    "reset_password",
    "open_ticket",
    "end_call",
];

/// Tools that act on the identified customer and answer `customer_not_identified`
/// without one (a caller not on file must be verified with `lookup_customer` first).
pub const NEEDS_CUSTOMER: &[&str] = &[
    "list_invoices",
    "send_invoice",
    "find_duplicate_charges",
    "issue_refund",
    "change_plan",
    "reset_password",
];

/// What a tool may know about the call.
#[derive(Clone)]
pub struct ToolContext {
    pub store: Store,
    pub call_id: String,
    /// The calling number, if known.
    pub phone: Option<String>,
    /// The customer already identified in this call.
    pub customer_id: Option<i64>,
    /// The caller's latest words (for confirmations).
    pub last_caller_text: String,
}

/// A tool's result plus its effects on the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// JSON result given back to the model.
    pub result: Value,
    /// A customer the tool identified (the runner remembers it).
    pub customer_id: Option<i64>,
    /// The tool asks the runtime to end the call (`end_call`).
    pub end_call: bool,
}

impl ToolOutput {
    pub(crate) fn ok(result: Value) -> Self {
        ToolOutput {
            result,
            customer_id: None,
            end_call: false,
        }
    }
    /// A refusal or failure: `code` (machine kind), `detail` (for the model: may name
    /// tools or give instructions, never spoken) and `say`, the caller-facing phrase for
    /// the kind ([`caller_phrase`]). Replies speak `{say}`, never `{detail}`.
    pub(crate) fn error(code: &str, detail: impl Into<String>) -> Self {
        Self::error_saying(code, detail, caller_phrase(code))
    }

    /// [`ToolOutput::error`] with a caller-facing phrase of its own.
    pub(crate) fn error_saying(
        code: &str,
        detail: impl Into<String>,
        say: impl Into<String>,
    ) -> Self {
        Self::ok(json!({"error": code, "detail": detail.into(), "say": say.into()}))
    }
}

/// What the caller hears for an error kind: plain words, no tool names, no
/// instructions for the model.
pub fn caller_phrase(code: &str) -> &'static str {
    match code {
        "customer_not_identified" => {
            "I couldn't find an account for the number you're calling from. What's the phone number on the account, and its ZIP code?"
        }
        "verification_required" => "For your security, what's the ZIP code on the account?",
        "verification_failed" => {
            "That ZIP code doesn't match the one on the account. Could you check it and tell me again?"
        }
        "invalid_arguments" => "I didn't quite get the details for that. Could you tell me again?",
        "not_found" => "I couldn't find that on your account.",
        "refund_refused" => "I'm not able to refund that charge.",
        "plan_change_refused" => "I'm not able to make that plan change.",
        "internal" => "I'm having trouble reaching our account system right now.",
        _ => "I couldn't get that done just now.",
    }
}

/// The JSON-schema spec of a known tool.
pub fn spec(name: &str) -> Option<ToolSpec> {
    let (description, parameters) = match name {
        "lookup_customer" => account::LOOKUP_CUSTOMER,
        "list_invoices" => account::LIST_INVOICES,
        "send_invoice" => account::SEND_INVOICE,
        "find_duplicate_charges" => account::FIND_DUPLICATES,
        "issue_refund" => billing::ISSUE_REFUND,
        "change_plan" => billing::CHANGE_PLAN,
        "check_service_status" => support::SERVICE_STATUS,
        "reset_password" => support::RESET_PASSWORD,
        "open_ticket" => support::OPEN_TICKET,
        "end_call" => support::END_CALL,
        _ => return None,
    };
    let parameters: Value =
        serde_json::from_str(parameters).unwrap_or_else(|_| json!({"type": "object"}));
    Some(ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    })
}

/// Run a known tool. Bad arguments and business-rule failures come back as error
/// results for the model; only store failures are errors.
pub async fn execute(
    name: &str,
    ctx: &ToolContext,
    args: &Value,
) -> Result<ToolOutput, StoreError> {
    if !args.is_object() {
        return Ok(ToolOutput::error(
            "invalid_arguments",
            "arguments must be a JSON object",
        ));
    }
    match name {
        "lookup_customer" => account::lookup_customer(ctx, args).await,
        "list_invoices" => account::list_invoices(ctx, args).await,
        "send_invoice" => account::send_invoice(ctx, args).await,
        "find_duplicate_charges" => account::find_duplicate_charges(ctx).await,
        "issue_refund" => billing::issue_refund(ctx, args).await,
        "change_plan" => billing::change_plan(ctx, args).await,
        "check_service_status" => support::check_service_status(ctx, args).await,
        "reset_password" => support::reset_password(ctx, args).await,
        "open_ticket" => support::open_ticket(ctx, args).await,
        "end_call" => support::end_call(args),
        other => Ok(ToolOutput::error(
            "unknown_tool",
            format!("no tool named {other}"),
        )),
    }
}

/// The identified customer: by id if known, else by the calling number.
pub(crate) async fn current_customer(ctx: &ToolContext) -> Result<Option<Customer>, StoreError> {
    if let Some(id) = ctx.customer_id {
        return ctx
            .store
            .run(move |c| customers::customer_by_id(c, id))
            .await;
    }
    match ctx.phone.clone() {
        Some(phone) => {
            ctx.store
                .run(move |c| customers::customer_by_phone(c, &phone))
                .await
        }
        None => Ok(None),
    }
}

pub(crate) fn not_identified() -> ToolOutput {
    ToolOutput::error(
        "customer_not_identified",
        "No account matches the calling number. Ask for the phone number on the account and its ZIP code, then call lookup_customer.",
    )
}

/// A customer as the model sees it.
pub(crate) fn customer_json(c: &Customer) -> Value {
    json!({
        "name": c.name,
        "first_name": c.name.split_whitespace().next().unwrap_or(&c.name),
        "phone": c.phone,
        "email": c.email,
        "region": c.region,
        "status": c.status,
        "member_since": c.member_since,
        "plan": {
            "code": c.plan.code,
            "name": c.plan.name,
            "monthly": customers::dollars(c.plan.monthly_cents),
            "speed_mbps": c.plan.speed_mbps,
        },
    })
}

/// `2026-03-12` → `March 12`.
pub fn spoken_date(iso: &str) -> String {
    let mut parts = iso.split('-');
    let (_, m, d) = (parts.next(), parts.next(), parts.next());
    match (
        m.and_then(|m| m.parse::<usize>().ok()),
        d.and_then(|d| d.get(..2))
            .and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(m @ 1..=12), Some(d)) => format!("{} {d}", MONTHS[m - 1]),
        _ => iso.to_string(),
    }
}
