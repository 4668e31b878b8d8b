//! Why a bill is the amount it is ("why is it almost seventy dollars? My plan is
//! sixty"): the bill's charges, read from the billing record's recent charges for that
//! bill's month, with what was refunded of them. The bill is the month named, else the
//! one whose amount the caller says, else the latest. An intent marked `breakdown`
//! answers this way; without the record's charges its own replies speak.

use serde_json::Value;

use super::{record::record_facts, Turn};
use crate::agents::embedded::slots;

/// Cents from "$69.99".
fn cents(amount: &Value) -> Option<u32> {
    slots::amounts(amount.as_str()?).first().copied()
}

/// A charge's description in a sentence: "Late payment fee" → "late payment fee", but a
/// plan's name keeps its capital ("Plus monthly subscription").
fn spoken(description: &str) -> String {
    let plan = ["Basic", "Plus", "Pro"]
        .iter()
        .any(|p| description.split_whitespace().next() == Some(p));
    if plan {
        description.to_string()
    } else {
        description.to_lowercase()
    }
}

fn dollars(cents: u32) -> String {
    crate::store::customers::dollars(i64::from(cents))
}

/// The breakdown of the bill the caller asks about, from `result`'s `invoices` (the
/// record's or `list_invoices`') and the record's recent charges; `None` without them.
pub(super) fn breakdown(t: &Turn, result: &Value) -> Option<String> {
    let invoices = result.get("invoices")?.as_array()?;
    let month_of =
        |i: &Value| -> Option<u32> { i["period"].as_str()?.split('-').nth(1)?.parse().ok() };
    let asked_amounts = slots::amounts(t.user_text);
    // (A month named but not on record is not answered with another month's bill.)
    let invoice = match slots::month(t.user_text) {
        Some(m) => invoices.iter().find(|i| month_of(i) == Some(m))?,
        None => invoices
            .iter()
            .find(|i| cents(&i["amount"]).is_some_and(|a| asked_amounts.contains(&a)))
            .or_else(|| invoices.first())?,
    };
    let period = invoice["period"].as_str()?;
    let month = crate::calendar::MONTHS.get(month_of(invoice)?.checked_sub(1)? as usize)?;
    let total = cents(&invoice["amount"])?;
    let facts = record_facts(&t.req.messages)?;
    let charges: Vec<&Value> = facts["recent_charges"]
        .as_array()?
        .iter()
        .filter(|c| c["date"].as_str().is_some_and(|d| d.starts_with(period)))
        .collect();
    if charges.is_empty() {
        return None;
    }
    // (The plan's own charge first, then what came on top of it.)
    let mut charges = charges;
    charges.sort_by_key(|c| {
        !c["description"]
            .as_str()
            .is_some_and(|d| d.contains("subscription"))
    });
    let parts: Vec<String> = charges
        .iter()
        .filter_map(|c| {
            let what = spoken(c["description"].as_str()?);
            Some(format!("{} for the {what}", dollars(cents(&c["amount"])?)))
        })
        .collect();
    let mut text = if parts.len() == 1 {
        format!("Your {month} bill of {} is {}.", dollars(total), parts[0])
    } else {
        let (last, rest) = parts.split_last()?;
        format!(
            "Your {month} bill of {} is {} and {last}.",
            dollars(total),
            rest.join(", ")
        )
    };
    let refunded: u32 = charges.iter().filter_map(|c| cents(&c["refunded"])).sum();
    for c in charges
        .iter()
        .filter(|c| cents(&c["refunded"]).unwrap_or(0) > 0)
    {
        let what = spoken(c["description"].as_str().unwrap_or("charge"));
        text.push_str(&format!(
            " The {} {what} was refunded to you",
            dollars(cents(&c["refunded"]).unwrap_or(0))
        ));
        text.push('.');
    }
    if refunded > 0 {
        text.push_str(&format!(
            " So that bill cost you {} in the end.",
            dollars(total.saturating_sub(refunded))
        ));
    }
    text.push_str(" Anything else?");
    Some(text)
}
