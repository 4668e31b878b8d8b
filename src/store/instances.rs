//! Server processes and the calls they own, so calls left open by a process that died
//! (a crash, `kill -9`, a lost node) are closed rather than left live forever.
//!
//! Each [`Store`] handle opened by a process is one instance (`host-pid-random`); it
//! registers at start-up and is stamped alive by a heartbeat ([`Store::heartbeat`],
//! every [`HEARTBEAT`]). A call records the instance serving it. A sweep closes the
//! open calls of instances not seen for [`STALE_AFTER`] — and, at start-up, of earlier
//! instances on the same host (a restarted container keeps its pod's host name, and
//! the process it replaces is dead) — with the outcome the caller names (the call
//! layer's `interrupted`; the store only keeps the word) and an end time.

use std::time::Duration;

use rusqlite::params;

use super::{Store, StoreError};

/// How often a live process stamps itself alive.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// An instance not seen for this long is taken for dead.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// This process's identity in the store.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub host: String,
}

impl Instance {
    /// `host-pid-random`, with the host from `HOSTNAME` or `/etc/hostname`.
    pub fn this_process() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        Self {
            id: format!("{host}-{}-{}", std::process::id(), hex::encode(random)),
            host,
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Store {
    /// Register this process and close the calls left open by dead ones (including
    /// earlier processes on this host) with `outcome`. Returns how many were closed.
    pub async fn instance_started(&self, outcome: &str) -> Result<usize, StoreError> {
        let me = self.instance().clone();
        let outcome = outcome.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT INTO instances (id, host, started_at, last_seen) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
                params![me.id, me.host, super::calls::now_rfc3339(), unix_now()],
            )?;
            close_orphans(c, &me, &outcome, true)
        })
        .await
    }

    /// Stamp this process alive and close the calls of instances gone stale with
    /// `outcome`.
    pub async fn heartbeat(&self, outcome: &str) -> Result<usize, StoreError> {
        let me = self.instance().clone();
        let outcome = outcome.to_string();
        self.run(move |c| {
            c.execute(
                "UPDATE instances SET last_seen = ?2 WHERE id = ?1",
                params![me.id, unix_now()],
            )?;
            close_orphans(c, &me, &outcome, false)
        })
        .await
    }
}

/// Close open calls of instances that are stale, unknown, or (at start-up) earlier
/// instances on this host; forget instances stale for a day.
fn close_orphans(
    c: &mut rusqlite::Connection,
    me: &Instance,
    outcome: &str,
    starting: bool,
) -> Result<usize, StoreError> {
    let stale = unix_now() - STALE_AFTER.as_secs() as i64;
    let tx = c.transaction()?;
    let closed = tx.execute(
        "UPDATE calls SET outcome = ?1, ended_at = ?2
         WHERE ended_at IS NULL AND (instance IS NULL OR instance != ?3) AND (
             instance IS NULL
             OR instance NOT IN (SELECT id FROM instances WHERE last_seen >= ?4)
             OR (?5 AND instance IN (SELECT id FROM instances WHERE host = ?6)))",
        params![
            outcome,
            super::calls::now_rfc3339(),
            me.id,
            stale,
            starting,
            me.host
        ],
    )?;
    tx.execute(
        "DELETE FROM instances WHERE last_seen < ?1 AND id != ?2",
        params![unix_now() - 86_400, me.id],
    )?;
    tx.commit()?;
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

    /// A second handle on the same file: another process's store.
    fn other_process(path: &std::path::Path, host: &str) -> Store {
        let mut s = Store::open(path).unwrap();
        s.instance = std::sync::Arc::new(Instance {
            id: format!("{host}-other"),
            host: host.into(),
        });
        s
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
        gone.run(|c| {
            c.execute(
                "UPDATE instances SET last_seen = last_seen - 3600 WHERE host = 'pod-b'",
                [],
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
        let after = other_process(&db, "pod-a");
        let after = Store {
            instance: std::sync::Arc::new(Instance {
                id: "pod-a-restarted".into(),
                host: "pod-a".into(),
            }),
            ..after
        };
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
}
