//! Admitting a media stream: the `start` message's token says who is calling, the
//! server's gate gives a call slot, and the call record is created beside the loop
//! (a record that already exists means a replayed or second stream: refused). Then
//! the call starts: caller audio, recognition (opened beside the loop), the agents
//! and the greeting.

use super::*;
use crate::store::StoreError;

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    /// A `start`: verify who is calling and take a call slot, then create the call
    /// record beside the loop (frames go on being read meanwhile; audio before the
    /// record exists is not a turn). [`Session::on_admitted`] goes on from there.
    pub(super) fn on_start(&mut self, start: StartMeta) {
        self.span.record("call_sid", start.call_sid.as_str());
        self.span.record("stream_sid", start.stream_sid.as_str());
        // Who is calling comes from the token /twiml issued, not from the client.
        let caller = match self.deps.settings.auth.identify(&start, unix_now()) {
            Ok(caller) => caller,
            Err(e) => return self.refuse(e.kind(), e.to_string()),
        };
        let new = NewCall {
            call_sid: start.call_sid.clone(),
            stream_sid: start.stream_sid.clone(),
            account_sid: start.account_sid.clone(),
            from: caller.from.clone(),
            to: caller.to.clone(),
            media: self.media.clone(),
        };
        // Authenticated: free the client's pending slot, take a call slot.
        if let Some(gate) = self.gate.as_mut() {
            if let Err(reason) = gate.authenticated() {
                return self.refuse_with(1013, "at_capacity", reason.to_string());
            }
        }
        let store = self.deps.store.clone();
        self.admitting = Some(tokio::spawn(async move { store.call_started(new).await }));
        self.admitted = Some((start, caller));
    }

    /// The call record was created (or could not be): refuse a second stream for the
    /// call, or start the call — audio, recognition, agents and the greeting.
    pub(super) fn on_admitted(&mut self, created: Result<(), StoreError>) {
        let Some((start, caller)) = self.admitted.take() else {
            return;
        };
        let call_sid = start.call_sid.clone();
        match created {
            Ok(()) => self.writer = Some(RecordWriter::spawn(self.deps.store.clone(), call_sid)),
            Err(crate::store::StoreError::CallExists(_)) => {
                // A replayed or second stream: never restart or overwrite a call.
                return self.refuse("call_exists", "this call already has a stream".into());
            }
            // Without the record, single use cannot be enforced: production refuses.
            Err(e) if self.deps.settings.auth.require_token => {
                warn!(error = %e, "could not create call record");
                return self.refuse_with(
                    1011,
                    "store_unavailable",
                    "call records unavailable".into(),
                );
            }
            Err(e) => warn!(error = %e, "could not create call record"),
        }
        self.deps.metrics.calls_started.inc();
        self.deps.metrics.calls_active.inc();
        let recorder = self.deps.settings.recordings_dir.as_ref().and_then(|dir| {
            Recorder::create(dir, &start.call_sid)
                .map_err(|e| warn!(error = %e, "cannot record this call"))
                .ok()
        });
        let voice = self.deps.voice.clone();
        let vad = voice.vad.as_ref().and_then(|f| {
            f.create()
                .map_err(|e| warn!(error = %e, "no VAD for this call"))
                .ok()
        });
        // Linked from the record from the start: a crash leaves a playable file.
        self.report.recording = recorder.as_ref().map(|r| r.path().display().to_string());
        self.audio = Some(CallerAudio::new(vad, recorder));
        // Opened beside the loop: the greeting starts without waiting for it.
        if let Some(stt) = voice.stt.clone() {
            self.stt_opening = Some(tokio::spawn(async move { stt.open().await }));
        }
        let greeting = match &voice.runtime {
            Some(runtime) => {
                let mut params = start.custom_parameters.clone();
                params.remove(crate::telephony::stream_token::PARAMETER);
                // The verified numbers replace whatever the client sent.
                params.insert("From".into(), caller.from.clone());
                params.insert("To".into(), caller.to.clone());
                let caller = CallerContext {
                    call_id: start.call_sid.clone(),
                    phone: Some(caller.from.clone()).filter(|p| !p.is_empty()),
                    params,
                };
                let mut link = AgentLink::new(runtime.clone(), caller);
                let greeting = link.greet();
                self.agent = Some(link);
                greeting
            }
            None => voice.greeting.clone(),
        };
        if let Some((agent, text)) = &greeting {
            self.report.greeting = Some((agent.clone(), text.clone()));
        }
        info!(
            from = %caller.from,
            verified = caller.verified,
            "call started"
        );
        self.start = Some(start);
        self.save_progress();
        self.feed(Input::Start { greeting });
        for event in std::mem::take(&mut self.held) {
            match event {
                Inbound::Media(media) => self.on_media(&media.payload), // counted when held
                event => self.on_event(event),
            }
        }
    }

    /// Close the stream before it starts: counted, logged without personal data, and
    /// answered with close code 1008 and `reason`.
    pub(super) fn refuse(&mut self, kind: &'static str, reason: String) {
        self.refuse_with(1008, kind, reason);
    }

    /// [`Session::refuse`] with another close code (1011 server error, 1013 try later).
    pub(super) fn refuse_with(&mut self, code: u16, kind: &'static str, reason: String) {
        self.deps.metrics.refused.with_label_values(&[kind]).inc();
        warn!(kind, %reason, "refused a media stream");
        self.refusal = Some((code, reason));
        self.end = Some(End::Closed);
    }
}
