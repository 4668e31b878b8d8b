//! The call record's writer: one task per call saves progress snapshots and the
//! final record in the order they were made, beside the call loop, so a store write
//! never holds up reading or pacing a frame. Progress snapshots not yet written when
//! a newer one arrives are superseded (only the latest state matters); the final
//! record is always written last.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::store::calls::CallUpdate;
use crate::store::Store;

/// Builds a snapshot of the call, on the blocking pool.
type Snapshot = Box<dyn FnOnce() -> CallUpdate + Send>;

enum Write {
    /// The call so far (built only if no newer snapshot follows it).
    Progress(Snapshot),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Writes one call's record in order, off the call loop.
pub struct RecordWriter {
    tx: mpsc::UnboundedSender<Write>,
    task: JoinHandle<()>,
    store: Store,
    call_sid: String,
}

impl RecordWriter {
    /// Starts the writer for `call_sid` (whose record `call_started` created).
    pub fn spawn(store: Store, call_sid: String) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Write>();
        let (task_store, sid) = (store.clone(), call_sid.clone());
        let task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Take everything queued: write only the newest snapshot, then answer
                // the flushes waiting behind it.
                let mut latest = None;
                let mut flushed = Vec::new();
                let mut next = Some(first);
                while let Some(w) = next {
                    match w {
                        Write::Progress(u) => latest = Some(u),
                        Write::Flush(done) => flushed.push(done),
                    }
                    next = rx.try_recv().ok();
                }
                if let Some(build) = latest {
                    let update = match tokio::task::spawn_blocking(build).await {
                        Ok(update) => update,
                        Err(e) => {
                            warn!(error = %e, "could not build call progress");
                            continue;
                        }
                    };
                    if let Err(e) = task_store.call_updated(&sid, update).await {
                        warn!(error = %e, "could not save call progress");
                    }
                }
                for done in flushed {
                    let _ = done.send(());
                }
            }
        });
        Self {
            tx,
            task,
            store,
            call_sid,
        }
    }

    /// Queues a snapshot of the call so far; never waits.
    pub fn progress(&self, update: CallUpdate) {
        self.progress_with(move || update);
    }

    /// Queues a snapshot built by `build` off the call loop (on the blocking pool, and
    /// only if no newer snapshot supersedes it); never waits.
    pub fn progress_with(&self, build: impl FnOnce() -> CallUpdate + Send + 'static) {
        let _ = self.tx.send(Write::Progress(Box::new(build)));
    }

    /// Resolves once every snapshot queued so far is written (the escalation brief
    /// must be in the record before the person's phone rings). The wait is queued now;
    /// the future may be awaited elsewhere (a transfer task).
    pub fn flushed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (done, written) = oneshot::channel();
        let queued = self.tx.send(Write::Flush(done)).is_ok();
        async move {
            if queued {
                let _ = written.await;
            }
        }
    }

    /// Writes the final record after everything queued, and stops the writer.
    pub async fn finish(self, update: CallUpdate) -> Result<(), crate::store::StoreError> {
        drop(self.tx);
        if let Err(e) = self.task.await {
            warn!(error = %e, "call record writer failed");
        }
        self.store.call_updated(&self.call_sid, update).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::NewCall;

    fn update(frames_in: u64) -> CallUpdate {
        CallUpdate {
            frames_in,
            ..CallUpdate::default()
        }
    }

    #[tokio::test]
    async fn snapshots_and_the_final_record_are_written_in_order() {
        let store = Store::open_in_memory().unwrap();
        store
            .call_started(NewCall {
                call_sid: "CA1".into(),
                stream_sid: "MZ1".into(),
                account_sid: "AC1".into(),
                from: "+15551230001".into(),
                to: "+18005550100".into(),
                ..NewCall::default()
            })
            .await
            .unwrap();
        let writer = RecordWriter::spawn(store.clone(), "CA1".into());
        for n in 1..=50 {
            writer.progress(update(n));
        }
        writer.flushed().await;
        let call = store.call("CA1").await.unwrap().unwrap();
        assert_eq!(call.frames_in, 50, "the newest snapshot is written");
        assert!(call.ended_at.is_none());
        writer.progress(update(60));
        writer.finish(update(70)).await.unwrap();
        let call = store.call("CA1").await.unwrap().unwrap();
        assert_eq!(call.frames_in, 70, "the final record is written last");
    }
}
