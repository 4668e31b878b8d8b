//! Saving the call: progress snapshots to the record writer (never awaited), and at
//! the end the recording, the conversation back from any running turn, and the final
//! record, written after every snapshot before it.

use super::*;

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    /// Queues a snapshot of the call for the record writer; never waits.
    pub(super) fn save_progress(&mut self) {
        let Some(writer) = self.writer.as_ref() else {
            return;
        };
        self.report.heard = self.machine.heard();
        let conv = self.agent.as_ref().and_then(|a| a.conversation());
        // Built and written off the loop: serialising a long call's trace takes
        // milliseconds the next frame must not wait for.
        let (report, stats) = (self.report.clone(), self.decoder.stats().clone());
        let conv = conv.cloned();
        writer.progress_with(move || report.update(conv.as_ref(), &stats, None));
    }

    pub(super) async fn finish(mut self, end: End) {
        self.report.recording = self.audio.as_mut().and_then(CallerAudio::finish);
        if let Some((code, reason)) = self.refusal.take() {
            let reject = self.out.send(WsFrame::Reject { code, reason });
            let _ = tokio::time::timeout(SEND_TIMEOUT, reject).await;
        } else if end != End::Lost {
            let _ = tokio::time::timeout(SEND_TIMEOUT, self.out.send(WsFrame::Close)).await;
        }
        // Ended while its record was being created: the record, if made, gets its end.
        if let (Some(task), Some((start, _))) = (self.admitting.take(), self.admitted.take()) {
            if let Ok(Ok(())) = task.await {
                let update = self.report.update(None, self.decoder.stats(), Some(end));
                if let Err(e) = self.deps.store.call_updated(&start.call_sid, update).await {
                    warn!(error = %e, "could not finish call record");
                }
            }
            info!(?end, "socket ended while the call was being admitted");
            return;
        }
        let Some(start) = self.start.take() else {
            info!(?end, "socket ended before start");
            return;
        };
        self.deps.metrics.calls_active.dec();
        self.report.heard = self.machine.heard();
        let conv = match self.agent.as_mut() {
            Some(link) => link.close().await.map(|c| &*c),
            None => None,
        };
        let update = self.report.update(conv, self.decoder.stats(), Some(end));
        let outcome = update.outcome.clone();
        // After every snapshot still queued, so the final record is the one kept.
        let written = match self.writer.take() {
            Some(writer) => writer.finish(update).await,
            None => self.deps.store.call_updated(&start.call_sid, update).await,
        };
        if let Err(e) = written {
            warn!(error = %e, "could not finish call record");
        } else if self.deps.telemetry.enabled() {
            // From the stored record: exactly what it says, masked as it is.
            match self.deps.store.call(&start.call_sid).await {
                Ok(Some(record)) => self.deps.telemetry.export_call(&record),
                Ok(None) => {}
                Err(e) => warn!(error = %e, "could not read the call record for telemetry"),
            }
        }
        info!(
            ?end,
            ?outcome,
            frames_in = self.report.frames_in,
            frames_out = self.report.frames_out,
            "call ended"
        );
    }
}
