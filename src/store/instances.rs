//! Server processes and the calls they own, so calls left open by a process that died
//! (a crash, `kill -9`, a lost node) are closed rather than left live forever.
//!
//! Each [`Store`] handle opened by a process is one instance (`host-pid-random`); it
//! registers at start-up and is stamped alive by a heartbeat ([`Store::heartbeat`],
//! every [`HEARTBEAT`]). A call records the instance serving it. A sweep closes the
//! open calls of instances not seen for [`STALE_AFTER`] — and, at start-up, of
//! instances on the same host that are dead (a restarted container keeps its pod's
//! host name): each process holds an exclusive lock on its own file in a folder beside
//! the database for as long as it lives, so a lock that can be taken belongs to a dead
//! process, and a live neighbour on the same host (blue/green on one VM) is never
//! touched. On PostgreSQL the lock is a session-level advisory lock held on a
//! connection of the process's own, so a dead process's lock is free wherever it ran.
//! Calls are closed with the outcome the caller names (the call layer's
//! `interrupted`; the store only keeps the word) and an end time.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Db, Store, StoreError};

/// How often a live process stamps itself alive.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// An instance not seen for this long is taken for dead.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// This process's identity in the store.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub host: String,
    liveness: Liveness,
}

/// How this process shows it is alive, and tells whether another is dead.
#[derive(Clone, Default)]
enum Liveness {
    /// No lock: peers find us dead only once our heartbeat goes stale.
    #[default]
    None,
    /// `<dir>/<id>.lock`, locked by us (`held`) for as long as we live.
    Files {
        dir: PathBuf,
        held: Option<Arc<File>>,
    },
    /// A PostgreSQL advisory lock held on a connection of our own.
    Advisory(Arc<super::postgres::LivenessLock>),
}

impl std::fmt::Debug for Liveness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Liveness::None => f.write_str("None"),
            Liveness::Files { dir, held } => f
                .debug_struct("Files")
                .field("dir", dir)
                .field("held", &held.is_some())
                .finish(),
            Liveness::Advisory(_) => f.write_str("Advisory"),
        }
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn new_id(host: &str) -> String {
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!("{host}-{}-{}", std::process::id(), hex::encode(random))
}

impl Instance {
    /// `host-pid-random`, with the host from `HOSTNAME` or `/etc/hostname`; holding
    /// its liveness lock in `locks` (if given) for as long as it lives.
    pub fn this_process(locks: Option<&Path>) -> Self {
        let host = host_name();
        let id = new_id(&host);
        let liveness = match locks.and_then(|dir| hold_lock(dir, &id).map(|f| (dir, f))) {
            Some((dir, held)) => Liveness::Files {
                dir: dir.to_path_buf(),
                held: Some(Arc::new(held)),
            },
            None => Liveness::None,
        };
        Self { id, host, liveness }
    }

    /// This process on a PostgreSQL store at `url`: its liveness is an advisory lock
    /// held on a connection of its own.
    pub(super) fn this_process_on_postgres(
        url: &str,
        ca_file: Option<&Path>,
    ) -> Result<Self, StoreError> {
        let host = host_name();
        let id = new_id(&host);
        let key = super::postgres::lock_key(&id);
        let lock = super::postgres::LivenessLock::take(url, key, ca_file)?;
        Ok(Self {
            id,
            host,
            liveness: Liveness::Advisory(Arc::new(lock)),
        })
    }

    /// Whether the instance `id` (on our host) is known to be dead: its lock is free.
    fn is_dead(&self, db: &mut Db<'_>, id: &str) -> Result<bool, StoreError> {
        Ok(match &self.liveness {
            Liveness::None => false,
            Liveness::Files { dir, .. } => lock_is_free(dir, id),
            Liveness::Advisory(_) => super::postgres::is_free(db, super::postgres::lock_key(id))?,
        })
    }

    /// Take our lock again if it was lost (a dropped database connection).
    fn keep_alive(&self) {
        if let Liveness::Advisory(lock) = &self.liveness {
            if let Err(e) = lock.ensure() {
                tracing::warn!(error = %e, "liveness lock lost; peers see this process alive only by its heartbeat");
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn named(id: &str, host: &str, locks: Option<&Path>) -> Self {
        let liveness = match locks {
            Some(dir) => Liveness::Files {
                dir: dir.to_path_buf(),
                held: hold_lock(dir, id).map(Arc::new),
            },
            None => Liveness::None,
        };
        Self {
            id: id.into(),
            host: host.into(),
            liveness,
        }
    }
}

/// Create and lock `<dir>/<id>.lock`; `None` (logged) where that is not possible.
fn hold_lock(dir: &Path, id: &str) -> Option<File> {
    let taken = std::fs::create_dir_all(dir).and_then(|()| {
        let f = File::create(dir.join(format!("{id}.lock")))?;
        f.try_lock()?;
        Ok(f)
    });
    match taken {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "no liveness lock: a restart on this host closes calls only once they go stale");
            None
        }
    }
}

/// Whether the instance `id` is dead: its lock file is gone or can be locked.
fn lock_is_free(dir: &Path, id: &str) -> bool {
    let path = dir.join(format!("{id}.lock"));
    let Ok(f) = File::options().write(true).open(&path) else {
        return true;
    };
    let free = f.try_lock().is_ok();
    if free {
        let _ = std::fs::remove_file(&path);
    }
    free
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    /// Register this process and close the calls left open by dead ones (including
    /// earlier processes on this host) with `outcome`. Returns how many were closed.
    pub async fn instance_started(&self, outcome: &str) -> Result<u64, StoreError> {
        self.stamp_alive(outcome, true).await
    }

    /// Stamp this process alive and close the calls of instances gone stale with
    /// `outcome`.
    pub async fn heartbeat(&self, outcome: &str) -> Result<u64, StoreError> {
        self.stamp_alive(outcome, false).await
    }

    async fn stamp_alive(&self, outcome: &str, starting: bool) -> Result<u64, StoreError> {
        let me = self.instance().clone();
        let outcome = outcome.to_string();
        self.run(move |db| {
            me.keep_alive();
            // An upsert: a registration that failed at start-up (or a row forgotten
            // after a long suspension) comes back, so peers never take us for dead.
            db.execute(
                "INSERT INTO instances (id, host, started_at, last_seen) VALUES ($1, $2, $3, $4)
                 ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
                &[&me.id, &me.host, &super::calls::now_rfc3339(), &unix_now()],
            )?;
            db.transaction(|tx| close_orphans(tx, &me, &outcome, starting))
        })
        .await
    }
}

/// Close open calls of instances that are stale, unknown, or (at start-up) dead
/// instances on this host; forget instances stale for a day.
fn close_orphans(
    db: &mut Db<'_>,
    me: &Instance,
    outcome: &str,
    starting: bool,
) -> Result<u64, StoreError> {
    let stale = unix_now() - STALE_AFTER.as_secs() as i64;
    let now = super::calls::now_rfc3339();
    let mut closed = db.execute(
        "UPDATE calls SET outcome = $1, ended_at = $2
         WHERE ended_at IS NULL AND (instance IS NULL OR instance != $3) AND (
             instance IS NULL
             OR instance NOT IN (SELECT id FROM instances WHERE last_seen >= $4))",
        &[&outcome, &now, &me.id, &stale],
    )?;
    // At start-up: instances on this host whose liveness lock is free are dead.
    if starting {
        let neighbours = db.query(
            "SELECT DISTINCT c.instance FROM calls c JOIN instances i ON i.id = c.instance
             WHERE c.ended_at IS NULL AND i.host = $1 AND i.id != $2",
            &[&me.host, &me.id],
        )?;
        for row in neighbours {
            let id: String = row.get(0)?;
            if me.is_dead(db, &id)? {
                closed += db.execute(
                    "UPDATE calls SET outcome = $1, ended_at = $2 WHERE ended_at IS NULL AND instance = $3",
                    &[&outcome, &now, &id],
                )?;
            }
        }
    }
    db.execute(
        "DELETE FROM instances WHERE last_seen < $1 AND id != $2",
        &[&(unix_now() - 86_400), &me.id],
    )?;
    if closed > 0 {
        tracing::warn!(
            calls = closed,
            "closed calls left open by a server process that died"
        );
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::NewCall;

    fn call(sid: &str) -> NewCall {
        NewCall {
            call_sid: sid.into(),
            stream_sid: format!("MZ{sid}"),
            ..NewCall::default()
        }
    }

    /// A second handle on the same file: another process's store, `live` holding
    /// its liveness lock.
    fn process(path: &std::path::Path, id: &str, host: &str, live: bool) -> Store {
        let mut s = Store::open(path).unwrap();
        let locks = path.with_extension("instances");
        s.instance = std::sync::Arc::new(Instance::named(id, host, live.then_some(&*locks)));
        if !live {
            // Its lock folder is known to the store, but nobody holds its lock.
            s.instance = std::sync::Arc::new(Instance {
                liveness: Liveness::Files {
                    dir: locks,
                    held: None,
                },
                ..(*s.instance).clone()
            });
        }
        s
    }

    fn other_process(path: &std::path::Path, host: &str) -> Store {
        process(path, &format!("{host}-other"), host, false)
    }

    #[tokio::test]
    async fn calls_of_a_dead_process_are_closed_and_live_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.sqlite");
        let ours = Store::open(&db).unwrap();
        ours.instance_started("interrupted").await.unwrap();
        ours.call_started(call("CAlive")).await.unwrap();
        // Another host's process registered, took a call, then went silent.
        let gone = other_process(&db, "pod-b");
        gone.instance_started("interrupted").await.unwrap();
        gone.call_started(call("CAgone")).await.unwrap();
        // Still fresh: nothing is closed.
        assert_eq!(ours.heartbeat("interrupted").await.unwrap(), 0);
        gone.run(|db| {
            db.execute(
                "UPDATE instances SET last_seen = last_seen - 3600 WHERE host = 'pod-b'",
                &[],
            )?;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(ours.heartbeat("interrupted").await.unwrap(), 1);
        let closed = ours.call("CAgone").await.unwrap().unwrap();
        assert_eq!(closed.outcome.as_deref(), Some("interrupted"));
        assert!(closed.ended_at.is_some());
        let live = ours.call("CAlive").await.unwrap().unwrap();
        assert_eq!((live.outcome, live.ended_at), (None, None));
    }

    #[tokio::test]
    async fn a_restart_on_the_same_host_closes_the_dead_process_calls_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.sqlite");
        let before = other_process(&db, "pod-a");
        before.instance_started("interrupted").await.unwrap();
        before.call_started(call("CAcrash")).await.unwrap();
        drop(before);
        let after = process(&db, "pod-a-restarted", "pod-a", true);
        assert_eq!(after.instance_started("interrupted").await.unwrap(), 1);
        let rec = after.call("CAcrash").await.unwrap().unwrap();
        assert_eq!(rec.outcome.as_deref(), Some("interrupted"));
        // Finished calls are never touched.
        after.call_started(call("CAdone")).await.unwrap();
        let done = crate::store::calls::CallUpdate {
            outcome: Some("completed".into()),
            ..Default::default()
        };
        after.call_updated("CAdone", done).await.unwrap();
        assert_eq!(after.instance_started("interrupted").await.unwrap(), 0);
        assert_eq!(
            after
                .call("CAdone")
                .await
                .unwrap()
                .unwrap()
                .outcome
                .as_deref(),
            Some("completed")
        );
    }

    #[tokio::test]
    async fn a_live_neighbour_on_the_same_host_keeps_its_calls() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.sqlite");
        let blue = process(&db, "vm-blue", "vm", true);
        blue.instance_started("interrupted").await.unwrap();
        blue.call_started(call("CAblue")).await.unwrap();
        let green = process(&db, "vm-green", "vm", true);
        assert_eq!(green.instance_started("interrupted").await.unwrap(), 0);
        assert_eq!(green.call("CAblue").await.unwrap().unwrap().outcome, None);
        // Blue dies (its lock is released): the next start on the host closes its call.
        drop(blue);
        let next = process(&db, "vm-next", "vm", true);
        assert_eq!(next.instance_started("interrupted").await.unwrap(), 1);
    }
}
