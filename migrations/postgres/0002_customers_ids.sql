-- Seeded rows name their ids: identities continue after the largest.
SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers));
SELECT setval(pg_get_serial_sequence('invoices', 'id'), (SELECT MAX(id) FROM invoices));
SELECT setval(pg_get_serial_sequence('charges', 'id'), (SELECT MAX(id) FROM charges));
SELECT setval(pg_get_serial_sequence('refunds', 'id'), (SELECT MAX(id) FROM refunds));
SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets));
