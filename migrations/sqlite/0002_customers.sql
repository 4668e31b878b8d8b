-- Demo customers, plans, invoices, charges, refunds, tickets and service status
-- for the agents' tools. Amounts are integer cents; dates are ISO-8601 text.
-- Demo callers (see prompts/README.md):
--   +15551230001 Dana Whitfield  - Plus; subscription charged twice on 2026-03-12
--   +15551230002 Marcus Chen     - Basic; lives in Riverside (degraded internet)
--   +15551230003 Priya Raman     - Pro; March invoice past due
--   +15551230004 Tom O'Brien     - Basic; speeds capped by plan (upgrade candidate)
--   +15551230005 Elena Garcia    - Plus; refunded a late fee in February

CREATE TABLE plans (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    monthly_cents INTEGER NOT NULL,
    speed_mbps    INTEGER NOT NULL,
    description   TEXT NOT NULL
);

CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    phone        TEXT NOT NULL UNIQUE,
    email        TEXT NOT NULL,
    zip          TEXT NOT NULL,
    region       TEXT NOT NULL,
    plan_code    TEXT NOT NULL REFERENCES plans(code),
    status       TEXT NOT NULL DEFAULT 'active',
    member_since TEXT NOT NULL
);

CREATE TABLE invoices (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    period       TEXT NOT NULL,
    issued_on    TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    status       TEXT NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id, issued_on DESC);

CREATE TABLE charges (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    invoice_id   INTEGER REFERENCES invoices(id),
    charged_on   TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    description  TEXT NOT NULL,
    method       TEXT NOT NULL DEFAULT 'card ending 4242'
);
CREATE INDEX charges_customer ON charges (customer_id, charged_on DESC);

CREATE TABLE refunds (
    id           INTEGER PRIMARY KEY,
    charge_id    INTEGER NOT NULL REFERENCES charges(id),
    amount_cents INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers(id),
    category    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open',
    created_at  TEXT NOT NULL
);

CREATE TABLE plan_changes (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    from_plan   TEXT NOT NULL,
    to_plan     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE service_status (
    region  TEXT NOT NULL,
    service TEXT NOT NULL,
    status  TEXT NOT NULL,   -- ok | degraded | outage | maintenance
    message TEXT NOT NULL,
    since   TEXT NOT NULL,
    PRIMARY KEY (region, service)
);

-- The rows: migrations/0002_customers_seed.sql (shared with PostgreSQL).
