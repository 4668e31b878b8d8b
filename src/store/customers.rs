//! Demo customer data for the agents' tools: typed queries over the tables of
//! `migrations/0002_customers.sql` (customers, plans, invoices, charges, refunds,
//! tickets, plan changes, password resets, service status).
//!
//! Functions take a [`Db`]; call them inside [`crate::store::Store::run`]. The same
//! SQL serves SQLite and PostgreSQL. Amounts are integer cents; times are RFC 3339
//! text stamped here, not by the database.

use serde::Serialize;

use crate::store::{Db, Row, StoreError};

/// A customer account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub zip: String,
    pub region: String,
    pub plan: Plan,
    /// active | past_due | suspended
    pub status: String,
    pub member_since: String,
}

/// A subscription plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub monthly_cents: i64,
    pub speed_mbps: i64,
    pub description: String,
}

/// A monthly invoice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    pub id: i64,
    pub period: String,
    pub issued_on: String,
    pub due_on: String,
    pub amount_cents: i64,
    /// paid | open | past_due
    pub status: String,
}

/// A charge to the customer's payment method, with what has been refunded of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charge {
    pub id: i64,
    pub invoice_id: Option<i64>,
    pub charged_on: String,
    pub amount_cents: i64,
    pub description: String,
    pub method: String,
    pub refunded_cents: i64,
}

/// Two or more identical charges (same day, amount and description).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateCharge {
    pub charged_on: String,
    pub amount_cents: i64,
    pub description: String,
    /// All charge ids of the group, oldest first; the first one is the legitimate one.
    pub charge_ids: Vec<i64>,
    /// Ids still refundable (the extra charges not yet refunded).
    pub refundable_ids: Vec<i64>,
}

/// A refund issued against a charge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refund {
    pub id: i64,
    pub charge_id: i64,
    pub amount_cents: i64,
    pub reason: String,
    pub created_at: String,
}

/// A support ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub category: String,
    pub summary: String,
    pub status: String,
    pub created_at: String,
}

/// Service health in a region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStatus {
    pub region: String,
    pub service: String,
    /// ok | degraded | outage | maintenance
    pub status: String,
    pub message: String,
    pub since: String,
}

fn now() -> String {
    super::calls::now_rfc3339()
}

/// Normalise a phone number to E.164-ish form: `+` and digits; 10 digits get `+1`.
pub fn normalize_phone(raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() == 10 {
        format!("+1{digits}")
    } else {
        format!("+{digits}")
    }
}

/// Format cents as spoken-friendly dollars: `$59.99`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

const CUSTOMER_SQL: &str =
    "SELECT c.id, c.name, c.phone, c.email, c.zip, c.region, c.status, c.member_since,
        p.code, p.name, p.monthly_cents, p.speed_mbps, p.description
 FROM customers c JOIN plans p ON p.code = c.plan_code";

fn customer_row(r: &Row) -> Result<Customer, StoreError> {
    Ok(Customer {
        id: r.get(0)?,
        name: r.get(1)?,
        phone: r.get(2)?,
        email: r.get(3)?,
        zip: r.get(4)?,
        region: r.get(5)?,
        status: r.get(6)?,
        member_since: r.get(7)?,
        plan: Plan {
            code: r.get(8)?,
            name: r.get(9)?,
            monthly_cents: r.get(10)?,
            speed_mbps: r.get(11)?,
            description: r.get(12)?,
        },
    })
}

/// The customer whose phone number matches (after normalisation).
pub fn customer_by_phone(db: &mut Db<'_>, phone: &str) -> Result<Option<Customer>, StoreError> {
    let phone = normalize_phone(phone);
    db.query_opt(&format!("{CUSTOMER_SQL} WHERE c.phone = $1"), &[&phone])?
        .as_ref()
        .map(customer_row)
        .transpose()
}

/// The customer with this id.
pub fn customer_by_id(db: &mut Db<'_>, id: i64) -> Result<Option<Customer>, StoreError> {
    db.query_opt(&format!("{CUSTOMER_SQL} WHERE c.id = $1"), &[&id])?
        .as_ref()
        .map(customer_row)
        .transpose()
}

/// All customers (demo listing).
pub fn customers(db: &mut Db<'_>) -> Result<Vec<Customer>, StoreError> {
    db.query(&format!("{CUSTOMER_SQL} ORDER BY c.id"), &[])?
        .iter()
        .map(customer_row)
        .collect()
}

fn plan_row(r: &Row) -> Result<Plan, StoreError> {
    Ok(Plan {
        code: r.get(0)?,
        name: r.get(1)?,
        monthly_cents: r.get(2)?,
        speed_mbps: r.get(3)?,
        description: r.get(4)?,
    })
}

/// All plans, cheapest first.
pub fn plans(db: &mut Db<'_>) -> Result<Vec<Plan>, StoreError> {
    db.query(
        "SELECT code, name, monthly_cents, speed_mbps, description FROM plans ORDER BY monthly_cents",
        &[],
    )?
    .iter()
    .map(plan_row)
    .collect()
}

/// The plan with this code (case-insensitive) or name.
pub fn plan_by_code(db: &mut Db<'_>, code: &str) -> Result<Option<Plan>, StoreError> {
    db.query_opt(
        "SELECT code, name, monthly_cents, speed_mbps, description FROM plans
         WHERE lower(code) = lower($1) OR lower(name) = lower($1)",
        &[&code.trim()],
    )?
    .as_ref()
    .map(plan_row)
    .transpose()
}

/// The customer's most recent invoices, newest first.
pub fn invoices(
    db: &mut Db<'_>,
    customer_id: i64,
    limit: usize,
) -> Result<Vec<Invoice>, StoreError> {
    db.query(
        "SELECT id, period, issued_on, due_on, amount_cents, status FROM invoices
         WHERE customer_id = $1 ORDER BY issued_on DESC, id DESC LIMIT $2",
        &[&customer_id, &(limit as i64)],
    )?
    .iter()
    .map(|r| {
        Ok(Invoice {
            id: r.get(0)?,
            period: r.get(1)?,
            issued_on: r.get(2)?,
            due_on: r.get(3)?,
            amount_cents: r.get(4)?,
            status: r.get(5)?,
        })
    })
    .collect()
}

const CHARGE_SQL: &str =
    "SELECT ch.id, ch.invoice_id, ch.charged_on, ch.amount_cents, ch.description, ch.method,
        CAST(COALESCE((SELECT SUM(amount_cents) FROM refunds r WHERE r.charge_id = ch.id), 0) AS BIGINT)
 FROM charges ch";

fn charge_row(r: &Row) -> Result<Charge, StoreError> {
    Ok(Charge {
        id: r.get(0)?,
        invoice_id: r.get(1)?,
        charged_on: r.get(2)?,
        amount_cents: r.get(3)?,
        description: r.get(4)?,
        method: r.get(5)?,
        refunded_cents: r.get(6)?,
    })
}

/// The customer's most recent charges, newest first.
pub fn charges(db: &mut Db<'_>, customer_id: i64, limit: usize) -> Result<Vec<Charge>, StoreError> {
    db.query(
        &format!(
            "{CHARGE_SQL} WHERE ch.customer_id = $1 ORDER BY ch.charged_on DESC, ch.id DESC LIMIT $2"
        ),
        &[&customer_id, &(limit as i64)],
    )?
    .iter()
    .map(charge_row)
    .collect()
}

/// One charge, only if it belongs to the customer.
pub fn charge(
    db: &mut Db<'_>,
    customer_id: i64,
    charge_id: i64,
) -> Result<Option<Charge>, StoreError> {
    db.query_opt(
        &format!("{CHARGE_SQL} WHERE ch.customer_id = $1 AND ch.id = $2"),
        &[&customer_id, &charge_id],
    )?
    .as_ref()
    .map(charge_row)
    .transpose()
}

/// Groups of identical charges (same day, amount, description) on the account.
pub fn duplicate_charges(
    db: &mut Db<'_>,
    customer_id: i64,
) -> Result<Vec<DuplicateCharge>, StoreError> {
    let all = charges(db, customer_id, 1000)?;
    let mut groups: Vec<DuplicateCharge> = Vec::new();
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| (&a.charged_on, a.id).cmp(&(&b.charged_on, b.id)));
    for c in &sorted {
        let key = |g: &DuplicateCharge| {
            g.charged_on == c.charged_on
                && g.amount_cents == c.amount_cents
                && g.description == c.description
        };
        match groups.iter_mut().find(|g| key(g)) {
            Some(g) => {
                g.charge_ids.push(c.id);
                if c.refunded_cents < c.amount_cents {
                    g.refundable_ids.push(c.id);
                }
            }
            None => groups.push(DuplicateCharge {
                charged_on: c.charged_on.clone(),
                amount_cents: c.amount_cents,
                description: c.description.clone(),
                charge_ids: vec![c.id],
                refundable_ids: if c.refunded_cents < c.amount_cents {
                    vec![c.id]
                } else {
                    Vec::new()
                },
            }),
        }
    }
    groups.retain(|g| g.charge_ids.len() > 1);
    for g in &mut groups {
        // Extras = all but one charge; keep only extras not yet refunded.
        let n = g.charge_ids.len();
        let refunded = n - g.refundable_ids.len();
        let left = (n - 1).saturating_sub(refunded);
        let skip = g.refundable_ids.len() - left;
        g.refundable_ids.drain(..skip);
    }
    Ok(groups)
}

/// Refund `amount_cents` (default: all that is left) of a charge owned by the
/// customer. Business-rule failures (another customer's charge, already refunded,
/// bad amount) come back as the inner `Err(message)`.
pub fn create_refund(
    db: &mut Db<'_>,
    customer_id: i64,
    charge_id: i64,
    amount_cents: Option<i64>,
    reason: &str,
) -> Result<Result<Refund, String>, StoreError> {
    let reason = crate::redact::global().redact(reason).into_owned();
    db.transaction(|tx| {
        // Lock the charge (PostgreSQL; SQLite's transaction holds the write lock) so
        // two replicas never refund the same charge twice.
        let lock = tx.for_update();
        if tx
            .query_opt(
                &format!("SELECT id FROM charges WHERE customer_id = $1 AND id = $2{lock}"),
                &[&customer_id, &charge_id],
            )?
            .is_none()
        {
            return Ok(Err(format!("charge {charge_id} is not on this account")));
        }
        let Some(ch) = charge(tx, customer_id, charge_id)? else {
            return Ok(Err(format!("charge {charge_id} is not on this account")));
        };
        let remaining = ch.amount_cents - ch.refunded_cents;
        if remaining <= 0 {
            return Ok(Err(format!(
                "charge {charge_id} has already been fully refunded"
            )));
        }
        let amount = amount_cents.unwrap_or(remaining);
        if amount <= 0 || amount > remaining {
            return Ok(Err(format!(
                "refund amount must be between $0.01 and {}",
                dollars(remaining)
            )));
        }
        let r = tx.query_one(
            "INSERT INTO refunds (charge_id, amount_cents, reason, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, charge_id, amount_cents, reason, created_at",
            &[&charge_id, &amount, &reason, &now()],
        )?;
        Ok(Ok(Refund {
            id: r.get(0)?,
            charge_id: r.get(1)?,
            amount_cents: r.get(2)?,
            reason: r.get(3)?,
            created_at: r.get(4)?,
        }))
    })
}

/// Move the customer to another plan; returns (old plan, new plan).
pub fn change_plan(
    db: &mut Db<'_>,
    customer_id: i64,
    plan_code: &str,
) -> Result<Result<(Plan, Plan), String>, StoreError> {
    db.transaction(|tx| {
        let lock = tx.for_update();
        tx.query_opt(
            &format!("SELECT id FROM customers WHERE id = $1{lock}"),
            &[&customer_id],
        )?;
        let Some(customer) = customer_by_id(tx, customer_id)? else {
            return Err(StoreError::NotFound(format!("customer {customer_id}")));
        };
        let Some(new) = plan_by_code(tx, plan_code)? else {
            let names: Vec<String> = plans(tx)?.into_iter().map(|p| p.code).collect();
            return Ok(Err(format!(
                "unknown plan `{plan_code}` (plans: {})",
                names.join(", ")
            )));
        };
        if new.code == customer.plan.code {
            return Ok(Err(format!(
                "the customer is already on the {} plan",
                new.name
            )));
        }
        tx.execute(
            "UPDATE customers SET plan_code = $1 WHERE id = $2",
            &[&new.code, &customer_id],
        )?;
        tx.execute(
            "INSERT INTO plan_changes (customer_id, from_plan, to_plan, created_at) VALUES ($1, $2, $3, $4)",
            &[&customer_id, &customer.plan.code, &new.code, &now()],
        )?;
        Ok(Ok((customer.plan, new)))
    })
}

/// Open a support ticket.
pub fn open_ticket(
    db: &mut Db<'_>,
    customer_id: Option<i64>,
    category: &str,
    summary: &str,
) -> Result<Ticket, StoreError> {
    let r = db.query_one(
        "INSERT INTO tickets (customer_id, category, summary, status, created_at) VALUES ($1, $2, $3, 'open', $4)
         RETURNING id, customer_id, category, summary, status, created_at",
        &[&customer_id, &category, &crate::redact::global().redact(summary).as_ref(), &now()],
    )?;
    ticket_row(&r)
}

fn ticket_row(r: &Row) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        category: r.get(2)?,
        summary: r.get(3)?,
        status: r.get(4)?,
        created_at: r.get(5)?,
    })
}

/// Tickets of a customer, newest first.
pub fn tickets(db: &mut Db<'_>, customer_id: i64) -> Result<Vec<Ticket>, StoreError> {
    db.query(
        "SELECT id, customer_id, category, summary, status, created_at FROM tickets WHERE customer_id = $1 ORDER BY id DESC",
        &[&customer_id],
    )?
    .iter()
    .map(ticket_row)
    .collect()
}

/// Record that a password-reset link was sent.
pub fn record_password_reset(
    db: &mut Db<'_>,
    customer_id: i64,
    channel: &str,
) -> Result<i64, StoreError> {
    db.query_one(
        "INSERT INTO password_resets (customer_id, channel, created_at) VALUES ($1, $2, $3) RETURNING id",
        &[&customer_id, &channel, &now()],
    )?
    .get(0)
}

/// Service status of a region (all services), or of every region if `None`.
pub fn service_status(
    db: &mut Db<'_>,
    region: Option<&str>,
) -> Result<Vec<ServiceStatus>, StoreError> {
    db.query(
        "SELECT region, service, status, message, since FROM service_status
         WHERE CAST($1 AS TEXT) IS NULL OR lower(region) = lower(CAST($1 AS TEXT))
         ORDER BY region, service",
        &[&region],
    )?
    .iter()
    .map(|r| {
        Ok(ServiceStatus {
            region: r.get(0)?,
            service: r.get(1)?,
            status: r.get(2)?,
            message: r.get(3)?,
            since: r.get(4)?,
        })
    })
    .collect()
}

#[cfg(test)]
#[path = "customers_tests.rs"]
mod tests;
