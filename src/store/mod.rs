//! The embedded SQLite store: one file (path from config) holding call records and
//! the demo customer data the agents' tools read and write.
//!
//! SQLite work is blocking, so every operation runs on tokio's blocking pool through
//! [`Store::run`]. Schema changes are SQL files under `migrations/`, applied in order
//! at open and tracked with `PRAGMA user_version`.

pub mod calls;
pub mod customers;
pub mod instances;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// Migrations, in order. Index + 1 is the `user_version` after applying it.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_calls",
        include_str!("../../migrations/0001_calls.sql"),
    ),
    (
        "0002_customers",
        include_str!("../../migrations/0002_customers.sql"),
    ),
    (
        "0003_instances",
        include_str!("../../migrations/0003_instances.sql"),
    ),
];

/// The migration that creates and seeds the demo customer data.
const CUSTOMERS_MIGRATION: usize = 1;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration {name} failed: {source}")]
    Migration {
        name: String,
        source: rusqlite::Error,
    },
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A call record with this SID exists already (a replayed or second stream).
    #[error("call {0} already has a record")]
    CallExists(String),
    #[error("store task failed: {0}")]
    Task(String),
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// This process, as the owner of the calls it serves.
    instance: Arc<instances::Instance>,
}

impl Store {
    /// Open (creating if needed) the database file and apply pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self::init(conn)?;
        // Processes sharing this file share this folder of liveness locks.
        let locks = path.with_extension("instances");
        store.instance = Arc::new(instances::Instance::this_process(Some(&locks)));
        Ok(store)
    }

    /// An in-memory database (tests, `switchboard chat`).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            instance: Arc::new(instances::Instance::this_process(None)),
        })
    }

    /// This process's identity in the store.
    pub fn instance(&self) -> &instances::Instance {
        &self.instance
    }

    /// Run blocking database work on the blocking pool.
    pub async fn run<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Put the demo customer data (plans, customers, bills, refunds, tickets…) back to
    /// its seeded state, keeping call records: each replay scenario starts alike.
    pub async fn reset_customer_data(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            let tx = conn.transaction()?;
            tx.execute_batch(
                "DROP TABLE IF EXISTS password_resets; DROP TABLE IF EXISTS plan_changes;
                 DROP TABLE IF EXISTS tickets; DROP TABLE IF EXISTS refunds;
                 DROP TABLE IF EXISTS charges; DROP TABLE IF EXISTS invoices;
                 DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS plans;
                 DROP TABLE IF EXISTS service_status;",
            )?;
            let (name, sql) = MIGRATIONS[CUSTOMERS_MIGRATION];
            tx.execute_batch(sql)
                .map_err(|source| StoreError::Migration {
                    name: name.to_string(),
                    source,
                })?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Run database work on the current thread (CLI tools, start-up).
    pub fn run_blocking<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<R, StoreError>,
    {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize =
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration {
                name: (*name).into(),
                source,
            })?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
