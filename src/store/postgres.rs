//! The PostgreSQL backend: a pool of blocking clients (r2d2), TLS through rustls with
//! the Mozilla roots and `[store] ca_file` (used as the URL's `sslmode` says: `prefer`
//! by default, `require` to insist, `disable` for none; a TLS handshake that fails is
//! an error even under `prefer`), and the liveness lock one process holds for as
//! long as it lives.
//!
//! The store's work runs on tokio's blocking pool, so the blocking `postgres` client
//! fits as SQLite does; each client drives its own connection on a small runtime of
//! its own. That runtime must never start or stop on a thread that drives async tasks
//! (tokio panics), so opening runs on a thread of its own ([`off_runtime`]) and the
//! pool and the liveness connection are dropped on one ([`DropOffRuntime`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// A pool of PostgreSQL clients.
pub(super) type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// Run `f` on a new thread and wait for it: blocking client work that may be called
/// from async code (start-up).
pub(super) fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Holds a value whose drop closes PostgreSQL connections, and drops it on a thread of
/// its own (the last store handle may go away inside async code).
pub(super) struct DropOffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> DropOffRuntime<T> {
    pub fn new(value: T) -> Self {
        Self(Some(value))
    }
}

impl<T: Send + 'static> std::ops::Deref for DropOffRuntime<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("present until dropped")
    }
}

impl<T: Send + 'static> Drop for DropOffRuntime<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            let _ = std::thread::Builder::new()
                .name("store-close".into())
                .spawn(move || drop(value));
        }
    }
}

/// How long taking a client from the pool (or opening the first) may wait.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS with the Mozilla roots plus the PEM certificates in `ca_file` (a private CA,
/// a cloud provider's bundle, a self-signed server).
fn tls(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, StoreError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let bad = |e: &dyn std::fmt::Display| {
            StoreError::Connect(format!("[store] ca_file {}: {e}", path.display()))
        };
        let pem = std::fs::read(path).map_err(|e| bad(&e))?;
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(&"no PEM certificate in the file"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn parse(url: &str) -> Result<postgres::Config, StoreError> {
    url.parse::<postgres::Config>()
        .map_err(|e| StoreError::Connect(format!("database_url {}: {e}", super::masked_url(url))))
}

/// Open a pool on `url` with at most `max` clients; fails (naming the URL without its
/// password) when the server cannot be reached within the connect timeout.
pub(super) fn connect(url: &str, max: u32, ca_file: Option<&Path>) -> Result<Pool, StoreError> {
    let mut config = parse(url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("switchboard");
    }
    let manager = PostgresConnectionManager::new(config, tls(ca_file)?);
    r2d2::Pool::builder()
        .max_size(max.max(1))
        .min_idle(Some(1))
        .connection_timeout(CONNECT_TIMEOUT)
        .build(manager)
        .map_err(|e| {
            StoreError::Connect(format!("cannot connect to {}: {e}", super::masked_url(url)))
        })
}

/// A session-level advisory lock held on a connection of its own for as long as this
/// process lives: when the process dies its session ends and the lock is free, which
/// any replica can test with [`is_free`]. Re-taken if the connection drops.
pub(super) struct LivenessLock {
    url: String,
    ca_file: Option<PathBuf>,
    key: i64,
    client: Mutex<Option<DropOffRuntime<postgres::Client>>>,
}

impl LivenessLock {
    /// Take the lock `key` on a new connection.
    pub fn take(url: &str, key: i64, ca_file: Option<&Path>) -> Result<Self, StoreError> {
        let lock = Self {
            url: url.to_string(),
            ca_file: ca_file.map(Path::to_path_buf),
            key,
            client: Mutex::new(None),
        };
        lock.ensure()?;
        Ok(lock)
    }

    /// Reconnect and take the lock again if its connection was lost.
    pub fn ensure(&self) -> Result<(), StoreError> {
        let mut held = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        let (url, key, ca_file) = (self.url.clone(), self.key, self.ca_file.clone());
        let client = off_runtime(move || Self::connect_and_lock(&url, key, ca_file.as_deref()))?;
        *held = Some(DropOffRuntime::new(client));
        Ok(())
    }

    fn connect_and_lock(
        url: &str,
        key: i64,
        ca_file: Option<&Path>,
    ) -> Result<postgres::Client, StoreError> {
        let mut config = parse(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut client = config.connect(tls(ca_file)?)?;
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
            .get(0);
        if !taken {
            return Err(StoreError::Connect(format!(
                "liveness lock {key} is held by another session"
            )));
        }
        Ok(client)
    }
}

/// Whether nobody holds the advisory lock `key` (its process is dead). Takes and at
/// once releases it on this connection.
pub(super) fn is_free(db: &mut super::Db<'_>, key: i64) -> Result<bool, StoreError> {
    let free = db
        .query_one(
            "SELECT CAST(CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END AS BIGINT)",
            &[&key],
        )?
        .get::<i64>(0)?
        == 1;
    if free {
        db.execute("SELECT pg_advisory_unlock($1)", &[&key])?;
    }
    Ok(free)
}

/// The advisory-lock key of an instance id: the first 8 bytes of its SHA-256.
pub(super) fn lock_key(instance_id: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(instance_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}
