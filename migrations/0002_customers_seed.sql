-- The demo rows of migration 0002 (customers, plans, invoices, charges, refunds,
-- tickets, service status), applied after the tables of migrations/sqlite/ or
-- migrations/postgres/0002_customers.sql: one copy of the data for both dialects.
-- Demo callers (see prompts/README.md):
--   +15551230001 Dana Whitfield  - Plus; subscription charged twice on 2026-03-12
--   +15551230002 Marcus Chen     - Basic; lives in Riverside (degraded internet)
--   +15551230003 Priya Raman     - Pro; March invoice past due
--   +15551230004 Tom O'Brien     - Basic; speeds capped by plan (upgrade candidate)
--   +15551230005 Elena Garcia    - Plus; refunded a late fee in February

INSERT INTO plans VALUES
  ('basic', 'Basic', 3999, 100,  'Fiber internet up to 100 Mbps'),
  ('plus',  'Plus',  5999, 500,  'Fiber internet up to 500 Mbps with Wi-Fi extender'),
  ('pro',   'Pro',   8999, 1000, 'Gigabit fiber with static IP and priority support');

INSERT INTO customers VALUES
  (1, 'Dana Whitfield', '+15551230001', 'dana.whitfield@example.com', '62704', 'Springfield', 'plus',  'active',   '2023-06-02'),
  (2, 'Marcus Chen',    '+15551230002', 'marcus.chen@example.com',    '92501', 'Riverside',   'basic', 'active',   '2024-01-15'),
  (3, 'Priya Raman',    '+15551230003', 'priya.raman@example.com',    '30301', 'Atlanta',     'pro',   'past_due', '2022-09-20'),
  (4, 'Tom O''Brien',   '+15551230004', 'tom.obrien@example.com',     '02101', 'Boston',      'basic', 'active',   '2025-03-08'),
  (5, 'Elena Garcia',   '+15551230005', 'elena.garcia@example.com',   '73301', 'Austin',      'plus',  'active',   '2021-11-30');

INSERT INTO invoices VALUES
  (101, 1, '2026-01', '2026-01-12', '2026-01-26', 5999, 'paid'),
  (102, 1, '2026-02', '2026-02-12', '2026-02-26', 5999, 'paid'),
  (103, 1, '2026-03', '2026-03-12', '2026-03-26', 5999, 'paid'),
  (201, 2, '2026-01', '2026-01-15', '2026-01-29', 3999, 'paid'),
  (202, 2, '2026-02', '2026-02-15', '2026-03-01', 3999, 'paid'),
  (203, 2, '2026-03', '2026-03-15', '2026-03-29', 3999, 'paid'),
  (301, 3, '2026-01', '2026-01-20', '2026-02-03', 8999, 'paid'),
  (302, 3, '2026-02', '2026-02-20', '2026-03-06', 8999, 'paid'),
  (303, 3, '2026-03', '2026-03-20', '2026-04-03', 8999, 'past_due'),
  (401, 4, '2026-02', '2026-02-08', '2026-02-22', 3999, 'paid'),
  (402, 4, '2026-03', '2026-03-08', '2026-03-22', 3999, 'paid'),
  (501, 5, '2026-01', '2026-01-30', '2026-02-13', 5999, 'paid'),
  (502, 5, '2026-02', '2026-02-28', '2026-03-14', 6999, 'paid');

INSERT INTO charges (id, customer_id, invoice_id, charged_on, amount_cents, description, method) VALUES
  (1001, 1, 101, '2026-01-12', 5999, 'Plus monthly subscription', 'card ending 4242'),
  (1002, 1, 102, '2026-02-12', 5999, 'Plus monthly subscription', 'card ending 4242'),
  (1003, 1, 103, '2026-03-12', 5999, 'Plus monthly subscription', 'card ending 4242'),
  (1004, 1, 103, '2026-03-12', 5999, 'Plus monthly subscription', 'card ending 4242'),
  (2001, 2, 201, '2026-01-15', 3999, 'Basic monthly subscription', 'card ending 1881'),
  (2002, 2, 202, '2026-02-15', 3999, 'Basic monthly subscription', 'card ending 1881'),
  (2003, 2, 203, '2026-03-15', 3999, 'Basic monthly subscription', 'card ending 1881'),
  (3001, 3, 301, '2026-01-20', 8999, 'Pro monthly subscription', 'bank account ending 0917'),
  (3002, 3, 302, '2026-02-20', 8999, 'Pro monthly subscription', 'bank account ending 0917'),
  (4001, 4, 401, '2026-02-08', 3999, 'Basic monthly subscription', 'card ending 5520'),
  (4002, 4, 402, '2026-03-08', 3999, 'Basic monthly subscription', 'card ending 5520'),
  (5001, 5, 501, '2026-01-30', 5999, 'Plus monthly subscription', 'card ending 7001'),
  (5002, 5, 502, '2026-02-28', 5999, 'Plus monthly subscription', 'card ending 7001'),
  (5003, 5, 502, '2026-02-28', 1000, 'Late payment fee', 'card ending 7001');

INSERT INTO refunds VALUES
  (1, 5003, 1000, 'Late fee waived as a courtesy', '2026-03-02');

INSERT INTO tickets VALUES
  (1, 2, 'technical', 'Intermittent evening slowdowns reported', 'open', '2026-03-18');

INSERT INTO service_status VALUES
  ('Springfield', 'internet', 'ok',       'All services running normally', '2026-03-01'),
  ('Riverside',   'internet', 'degraded', 'Fiber cut near Magnolia Ave; speeds reduced, crews on site, fix expected by 6 pm', '2026-03-20'),
  ('Atlanta',     'internet', 'ok',       'All services running normally', '2026-03-01'),
  ('Boston',      'internet', 'ok',       'All services running normally', '2026-03-01'),
  ('Austin',      'internet', 'maintenance', 'Planned maintenance tonight from 1 to 3 am', '2026-03-19');
