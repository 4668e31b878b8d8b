//! The store: call records and the demo customer data the agents' tools read and
//! write, in one SQLite file (the embedded default, `[store] path`) or in PostgreSQL
//! (`[store] database_url`, shared by every replica).
//!
//! Database work is blocking, so every operation runs on tokio's blocking pool through
//! [`Store::run`], which hands it a [`Db`]: one connection with one query API for both
//! engines (see `db.rs`). Schema changes are SQL files under `migrations/<dialect>/`,
//! applied in order at open (`migrate.rs`).

pub mod calls;
pub mod customers;
mod db;
pub mod instances;
mod migrate;
mod postgres;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

pub use db::{Db, Dialect, Param, Row};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// The database could not be reached or its URL is invalid (no password shown).
    #[error("{0}")]
    Connect(String),
    #[error("migration {name} failed: {message}")]
    Migration { name: String, message: String },
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
    backend: Backend,
    /// This process, as the owner of the calls it serves.
    instance: Arc<instances::Instance>,
}

#[derive(Clone)]
enum Backend {
    /// One connection: SQLite serialises writers anyway.
    Sqlite(Arc<Mutex<Connection>>),
    Postgres(Arc<postgres::DropOffRuntime<postgres::Pool>>),
}

impl Store {
    /// Open the store `[store]` names: PostgreSQL for a `postgres://` (or
    /// `postgresql://`, or libpq key=value) `database_url`, the SQLite file of a
    /// `sqlite://` URL, else the SQLite file at `path`.
    pub fn from_config(config: &crate::config::StoreConfig) -> Result<Self, StoreError> {
        let url = config.database_url.trim();
        if url.is_empty() {
            return Self::open(&config.path);
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Self::open(Path::new(path));
        }
        let postgres = url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || (!url.contains("://") && url.contains('='));
        if !postgres {
            return Err(StoreError::Connect(format!(
                "database_url {}: expected postgres://…, postgresql://…, key=value or sqlite://<path>",
                masked_url(url)
            )));
        }
        let ca_file = Some(config.ca_file.as_path()).filter(|p| !p.as_os_str().is_empty());
        Self::open_postgres(url, config.max_connections, ca_file)
    }

    /// Connect to PostgreSQL at `url` (a pool of at most `max_connections`; server
    /// certificates checked against the Mozilla roots and `ca_file`) and apply pending
    /// migrations. Blocks while connecting; may be called from async code (start-up).
    pub fn open_postgres(
        url: &str,
        max_connections: u32,
        ca_file: Option<&Path>,
    ) -> Result<Self, StoreError> {
        postgres::off_runtime(|| {
            let pool = postgres::connect(url, max_connections, ca_file)?;
            // Replicas sharing the database test each other's liveness by this lock.
            let instance = instances::Instance::this_process_on_postgres(url, ca_file)?;
            let store = Self {
                backend: Backend::Postgres(Arc::new(postgres::DropOffRuntime::new(pool))),
                instance: Arc::new(instance),
            };
            store.run_blocking(migrate::migrate)?;
            Ok(store)
        })
    }

    /// Open (creating if needed) the SQLite file and apply pending migrations.
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

    /// An in-memory SQLite database (tests, `switchboard chat`).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let store = Self {
            backend: Backend::Sqlite(Arc::new(Mutex::new(conn))),
            instance: Arc::new(instances::Instance::this_process(None)),
        };
        store.run_blocking(migrate::migrate)?;
        Ok(store)
    }

    /// Which engine serves this store.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// This process's identity in the store.
    pub fn instance(&self) -> &instances::Instance {
        &self.instance
    }

    /// Run blocking database work on the blocking pool.
    pub async fn run<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.run_blocking(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Put the demo customer data (plans, customers, bills, refunds, tickets…) back to
    /// its seeded state, keeping call records: each replay scenario starts alike.
    pub async fn reset_customer_data(&self) -> Result<(), StoreError> {
        self.run(migrate::reseed_customers).await
    }

    /// Run database work on the current thread (CLI tools, start-up, the blocking
    /// pool). Waits for a pooled PostgreSQL client if all are busy. On PostgreSQL
    /// never from a thread that drives async tasks (use [`Store::run`]).
    pub fn run_blocking<F, R>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<R, StoreError>,
    {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                f(&mut Db::sqlite(&mut guard))
            }
            Backend::Postgres(pool) => {
                let mut client = pool
                    .get()
                    .map_err(|e| StoreError::Connect(format!("no database connection: {e}")))?;
                f(&mut Db::postgres(&mut client))
            }
        }
    }
}

/// A database URL with its password replaced by `***` (for logs and errors).
pub fn masked_url(url: &str) -> String {
    // URL form: scheme://user:password@host…?password=…
    if let Some((scheme, rest)) = url.split_once("://") {
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let rest = match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@{host}"),
                None => format!("{userinfo}@{host}"),
            },
            None => rest.to_string(),
        };
        let query = query.map(|q| {
            let params: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("?{}", params.join("&"))
        });
        return format!("{scheme}://{rest}{}", query.unwrap_or_default());
    }
    // key=value form: the value after password= (quoted or not) is hidden whole.
    match url.to_ascii_lowercase().find("password") {
        None => url.to_string(),
        Some(at) => {
            let after = &url[at + "password".len()..];
            let Some(eq) = after.find('=') else {
                return url.to_string();
            };
            let value = after[eq + 1..].trim_start();
            let skip = at + "password".len() + eq + 1 + (after[eq + 1..].len() - value.len());
            let len = if let Some(quoted) = value.strip_prefix('\'') {
                quoted.find('\'').map_or(value.len(), |i| i + 2)
            } else {
                value.find(char::is_whitespace).unwrap_or(value.len())
            };
            let rest = masked_url(&url[skip + len..]);
            format!("{}***{rest}", &url[..skip])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_their_password() {
        assert_eq!(
            masked_url("postgres://app:s3cr3t@db:5432/calls?sslmode=require"),
            "postgres://app:***@db:5432/calls?sslmode=require"
        );
        assert_eq!(masked_url("postgres://db/calls"), "postgres://db/calls");
        assert_eq!(
            masked_url("host=db user=app password=s3cr3t dbname=calls"),
            "host=db user=app password=*** dbname=calls"
        );
        assert_eq!(
            masked_url("host=db password = 'has space' dbname=calls"),
            "host=db password = *** dbname=calls"
        );
        assert_eq!(
            masked_url("postgres://app@db/calls?sslmode=require&password=s3cr3t"),
            "postgres://app@db/calls?sslmode=require&password=***"
        );
        let config = crate::config::StoreConfig {
            database_url: "postgres://app:s3cr3t@db/calls".into(),
            ..Default::default()
        };
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }
}
