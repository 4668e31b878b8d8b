//! Schema migrations: SQL files under `migrations/<dialect>/`, applied in order when the
//! store opens. The two dialects hold the same migrations (same names, tables, columns
//! and seed rows; a test compares the schemas they build).
//!
//! SQLite tracks the applied count in `PRAGMA user_version`. PostgreSQL tracks it in a
//! `schema_migrations` table and takes a transaction-scoped advisory lock first, so
//! replicas starting together apply each migration once; DDL there is transactional,
//! so a failed migration leaves nothing half-done.

use super::db::{Db, Dialect};
use super::StoreError;

/// One migration: its name and its SQL for each dialect.
pub(super) struct Migration {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    pub fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

macro_rules! migration {
    ($name:literal) => {
        Migration {
            name: $name,
            sqlite: include_str!(concat!("../../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../../migrations/postgres/", $name, ".sql")),
        }
    };
}

/// Migrations, in order. The demo rows of 0002 are one file for both dialects.
pub(super) const MIGRATIONS: &[Migration] = &[
    migration!("0001_calls"),
    Migration {
        name: "0002_customers",
        sqlite: concat!(
            include_str!("../../migrations/sqlite/0002_customers.sql"),
            include_str!("../../migrations/0002_customers_seed.sql"),
        ),
        postgres: concat!(
            include_str!("../../migrations/postgres/0002_customers.sql"),
            include_str!("../../migrations/0002_customers_seed.sql"),
            include_str!("../../migrations/postgres/0002_customers_ids.sql"),
        ),
    },
    migration!("0003_instances"),
    migration!("0004_call_media"),
];

/// The migration that creates and seeds the demo customer data.
pub(super) const CUSTOMERS: usize = 1;

/// The demo customer tables, children first (the order they can be dropped in).
pub(super) const CUSTOMER_TABLES: &[&str] = &[
    "password_resets",
    "plan_changes",
    "tickets",
    "refunds",
    "charges",
    "invoices",
    "customers",
    "plans",
    "service_status",
];

/// Key of the advisory lock replicas take while migrating (any constant unique to us).
const MIGRATION_LOCK: i64 = 0x5377_6974_6368_6d67; // "Switchmg"

/// Apply the migrations this database has not had yet.
pub(super) fn migrate(db: &mut Db<'_>) -> Result<(), StoreError> {
    match db.dialect() {
        Dialect::Sqlite => {
            let current = db.query_one("PRAGMA user_version", &[])?.get::<i64>(0)? as usize;
            for (i, m) in MIGRATIONS.iter().enumerate().skip(current) {
                db.transaction(|tx| {
                    apply(tx, m)?;
                    // PRAGMA takes no parameters; the value is our own integer.
                    tx.batch(&format!("PRAGMA user_version = {}", i + 1))
                })?;
            }
            Ok(())
        }
        Dialect::Postgres => db.transaction(|tx| {
            // Its result is `void`: executed, not read.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            tx.batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version    BIGINT PRIMARY KEY,
                     name       TEXT NOT NULL,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )?;
            let current = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    &[],
                )?
                .get::<i64>(0)? as usize;
            for (i, m) in MIGRATIONS.iter().enumerate().skip(current) {
                apply(tx, m)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    &[&((i + 1) as i64), &m.name],
                )?;
            }
            Ok(())
        }),
    }
}

fn apply(db: &mut Db<'_>, m: &Migration) -> Result<(), StoreError> {
    let dialect = db.dialect();
    db.batch(m.sql(dialect))
        .map_err(|source| StoreError::Migration {
            name: m.name.to_string(),
            message: source.to_string(),
        })
}

/// Drop the demo customer tables and create and seed them again.
pub(super) fn reseed_customers(db: &mut Db<'_>) -> Result<(), StoreError> {
    db.transaction(|tx| {
        for table in CUSTOMER_TABLES {
            tx.batch(&format!("DROP TABLE IF EXISTS {table}"))?;
        }
        apply(tx, &MIGRATIONS[CUSTOMERS])
    })
}
