//! One phone call's tokio task: wires a Media Streams socket, the speech providers and
//! the agent runtime to the sans-IO [`Machine`].
//!
//! The task `select!`s over inbound frames, STT events, synthesized audio, agent
//! events, the finishing agent turn, the machine's next timer and shutdown; every
//! input goes into the machine and every action it returns is carried out here. All
//! decisions live in the machine; this file only moves bytes and time. Errors on one
//! call are counted and logged; they never touch another call.

use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument};

use super::agent_link::{AgentLink, TaggedEvent};
use super::caller_audio::CallerAudio;
use super::identity::unix_now;
use super::machine::{Action, CallerInput, Input, Machine};
use super::record_writer::RecordWriter;
use super::recorder::Recorder;
use super::report::CallReport;
use super::transport::WsFrame;
use super::tts_worker::{self, SpeakJob, TtsHandle, TtsOutput};
use super::{CallDeps, End, StreamGate};
use crate::agents::{CallerContext, RunEvent};
use crate::speech::{SpeechError, SttEvent, SttInput, SttStream, STT_INPUT_CAPACITY};
use crate::store::calls::NewCall;
use crate::telephony::{self, Decoder, Inbound, Outbound, StartMeta};

/// Run one call over a websocket until it ends. `gate` is told when the stream has
/// authenticated itself with a valid `start` (and may refuse it: at capacity).
pub async fn run<S, K>(
    inbound: S,
    outbound: K,
    deps: CallDeps,
    gate: Option<Box<dyn StreamGate>>,
    shutdown: CancellationToken,
) where
    S: Stream<Item = WsFrame> + Unpin,
    K: Sink<WsFrame> + Unpin,
{
    let span = info_span!(
        "call",
        call_sid = tracing::field::Empty,
        stream_sid = tracing::field::Empty
    );
    let mut session = Session::new(deps, outbound, span.clone());
    session.gate = gate;
    session.run(inbound, shutdown).instrument(span).await;
}

struct Session<K> {
    deps: CallDeps,
    out: K,
    span: tracing::Span,
    decoder: Decoder,
    machine: Machine,
    start: Option<StartMeta>,
    audio: Option<CallerAudio>,
    stt: Option<SttStream>,
    /// The recognition stream being opened beside the loop, and what the machine sent
    /// it meanwhile (passed on once it is open).
    stt_opening: Option<JoinHandle<Result<SttStream, SpeechError>>>,
    stt_backlog: Vec<SttInput>,
    /// A transfer to a person in flight (the Twilio REST call), beside the loop.
    transferring: Option<JoinHandle<Result<String, String>>>,
    tts: TtsHandle,
    tts_rx: mpsc::UnboundedReceiver<TtsOutput>,
    agent: Option<AgentLink>,
    agent_rx: mpsc::UnboundedReceiver<TaggedEvent>,
    agent_tx: mpsc::UnboundedSender<TaggedEvent>,
    report: CallReport,
    /// Saves the record beside the loop (from a verified start on).
    writer: Option<RecordWriter>,
    socket_ok: bool,
    end: Option<End>,
    /// The server's admission of this socket (see [`StreamGate`]).
    gate: Option<Box<dyn StreamGate>>,
    /// Close code and reason when the stream was refused.
    refusal: Option<(u16, String)>,
}

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    fn new(deps: CallDeps, out: K, span: tracing::Span) -> Self {
        let decoder = Decoder::new(deps.settings.limits);
        let machine = Machine::new(deps.settings.machine.clone());
        let (tts_tx, tts_rx) = mpsc::unbounded_channel();
        let tts = tts_worker::spawn(deps.voice.tts.clone(), tts_tx);
        let (agent_tx, agent_rx) = mpsc::unbounded_channel();
        Self {
            deps,
            out,
            span,
            decoder,
            machine,
            start: None,
            audio: None,
            stt: None,
            stt_opening: None,
            stt_backlog: Vec::new(),
            transferring: None,
            tts,
            tts_rx,
            agent: None,
            agent_rx,
            agent_tx,
            report: CallReport::default(),
            writer: None,
            socket_ok: true,
            end: None,
            gate: None,
            refusal: None,
        }
    }

    async fn run<S: Stream<Item = WsFrame> + Unpin>(
        mut self,
        mut inbound: S,
        shutdown: CancellationToken,
    ) {
        // A start timeout of zero disables it.
        let timeout = self.deps.settings.start_timeout;
        let start_deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
        let end = loop {
            if let Some(end) = self.end {
                break end;
            }
            if !self.socket_ok {
                break End::Lost;
            }
            if self.start.is_none() && start_deadline.is_some_and(|d| Instant::now() >= d) {
                // Checked on every pass, not only when its timer fires: a client
                // flooding frames keeps the biased select's inbound branch ready.
                let ms = timeout.as_millis();
                self.refuse("start_timeout", format!("no valid start within {ms} ms"));
                continue;
            }
            let deadline = self
                .machine
                .poll_timeout(Instant::now().into_std())
                .map(Instant::from_std);
            let stt_open = self.stt.is_some();
            let awaiting_start = self.start.is_none() && start_deadline.is_some();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break End::Shutdown,
                frame = inbound.next() => match frame {
                    None | Some(WsFrame::Close) => break End::Lost,
                    Some(frame) => self.on_frame(frame).await,
                },
                Some(out) = self.tts_rx.recv() => {
                    let input = match out {
                        TtsOutput::Audio { utterance, seq, mulaw } => Input::TtsAudio { utterance, seq, audio: mulaw },
                        TtsOutput::Done { utterance, seq } => Input::TtsDone { utterance, seq },
                    };
                    self.feed(input);
                }
                event = recv_stt(&mut self.stt), if stt_open => self.on_stt(event),
                done = joined(&mut self.transferring), if self.transferring.is_some() => {
                    self.transferring = None;
                    self.on_transferred(done.unwrap_or_else(|e| Err(format!("transfer task failed: {e}"))));
                }
                opened = joined(&mut self.stt_opening), if self.stt_opening.is_some() => {
                    self.stt_opening = None;
                    self.on_stt_opened(opened.unwrap_or_else(|e| {
                        Err(SpeechError::Provider(format!("opening STT failed: {e}")))
                    }));
                }
                Some((turn, event)) = self.agent_rx.recv() => self.on_agent_event(turn, event),
                turn = finished_turn(&mut self.agent) => {
                    self.feed(Input::AgentDone { turn });
                    self.save_progress();
                }
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    self.machine.handle_timeout(Instant::now().into_std());
                }
                // Wakes the loop; the check at its top refuses the stream.
                _ = sleep_until_opt(start_deadline), if awaiting_start => {}
            }
            self.dispatch().await;
        };
        self.finish(end).await;
    }

    fn feed(&mut self, input: Input) {
        self.machine.handle(Instant::now().into_std(), input);
    }

    async fn on_frame(&mut self, frame: WsFrame) {
        let decoded = match frame {
            WsFrame::Text(text) => self.decoder.decode_text(&text),
            WsFrame::Binary(bytes) => self.decoder.decode_binary(&bytes),
            WsFrame::Ping(p) => {
                self.send(WsFrame::Pong(p)).await;
                return;
            }
            WsFrame::Pong(_) | WsFrame::Close | WsFrame::Reject { .. } => return,
        };
        match decoded {
            Ok(event) => self.on_event(event).await,
            Err(telephony::ProtocolError::MediaBeforeStart { event }) => {
                // Early frames are dropped and counted, never a reason to close: the
                // start timeout ends a socket that never starts.
                self.deps.metrics.frames_before_start.inc();
                debug!(event, "dropped a message that arrived before start");
            }
            Err(e) => {
                self.report.errors += 1;
                self.deps
                    .metrics
                    .protocol_errors
                    .with_label_values(&[e.kind()])
                    .inc();
                warn!(error = %e, kind = e.kind(), "dropped inbound message");
                if e.is_fatal() || self.report.errors >= self.deps.settings.max_errors {
                    warn!(
                        errors = self.report.errors,
                        "closing call after protocol errors"
                    );
                    self.end = Some(End::Closed);
                }
            }
        }
    }

    async fn on_event(&mut self, event: Inbound) {
        match event {
            Inbound::Connected { .. } => debug!("carrier connected"),
            Inbound::Start(start) => self.on_start(start).await,
            Inbound::Media(media) => {
                self.report.frames_in += 1;
                self.deps.metrics.frames_in.inc();
                if let Some(audio) = self.audio.as_mut() {
                    for f in audio.push(&media.payload) {
                        self.feed(Input::Audio {
                            pcm16k: f.pcm16k,
                            speech_prob: f.speech_prob,
                        });
                    }
                }
            }
            Inbound::Mark(mark) => self.feed(Input::Mark { name: mark.name }),
            Inbound::Dtmf(d) => {
                // Keys may be a card number: never logged in clear.
                debug!(keys = d.digit.chars().count(), "keypad");
                for c in d.digit.chars() {
                    self.feed(Input::Dtmf { digit: c });
                }
            }
            Inbound::Stop(_) => self.end = Some(End::Stopped),
            Inbound::Unknown { event } => {
                self.deps.metrics.unknown_events.inc();
                debug!(%event, "ignored unknown event");
            }
        }
    }

    /// Close the stream before it starts: counted, logged without personal data, and
    /// answered with close code 1008 and `reason`.
    fn refuse(&mut self, kind: &'static str, reason: String) {
        self.refuse_with(1008, kind, reason);
    }

    /// [`Session::refuse`] with another close code (1011 server error, 1013 try later).
    fn refuse_with(&mut self, code: u16, kind: &'static str, reason: String) {
        self.deps.metrics.refused.with_label_values(&[kind]).inc();
        warn!(kind, %reason, "refused a media stream");
        self.refusal = Some((code, reason));
        self.end = Some(End::Closed);
    }

    async fn on_start(&mut self, start: StartMeta) {
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
        };
        // Authenticated: free the client's pending slot, take a call slot.
        if let Some(gate) = self.gate.as_mut() {
            if let Err(reason) = gate.authenticated() {
                return self.refuse_with(1013, "at_capacity", reason.to_string());
            }
        }
        let call_sid = new.call_sid.clone();
        match self.deps.store.call_started(new).await {
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
                let mut link = AgentLink::new(runtime.clone(), caller, self.agent_tx.clone());
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
        self.feed(Input::Start { greeting });
    }

    /// The recognition stream is open (or could not be): pass on what waited for it.
    fn on_stt_opened(&mut self, opened: Result<SttStream, SpeechError>) {
        match opened {
            Ok(stream) => {
                self.stt = Some(stream);
                for input in std::mem::take(&mut self.stt_backlog) {
                    self.stt_send(input);
                }
            }
            Err(e) => {
                warn!(error = %e, "speech recognition unavailable for this call");
                self.report.stt_dropped += self.stt_backlog.len() as u64;
                self.stt_backlog.clear();
            }
        }
    }

    fn on_stt(&mut self, event: Option<SttEvent>) {
        match event {
            Some(SttEvent::Partial { text, .. }) => self.feed(Input::SttPartial { text }),
            Some(SttEvent::Final {
                text,
                confidence,
                continued,
                ..
            }) => self.feed(Input::SttFinal {
                text,
                confidence,
                continued,
            }),
            Some(SttEvent::SpeechStarted { .. } | SttEvent::SpeechEnded { .. }) => {}
            None => {
                warn!("speech recognition stream ended");
                self.stt = None;
            }
        }
    }

    fn on_agent_event(&mut self, turn: u64, event: RunEvent) {
        match event {
            RunEvent::Say { agent, text } => self.feed(Input::AgentSay { turn, agent, text }),
            RunEvent::Escalate { reason, brief } => {
                info!(%reason, "escalating to a person");
                self.report.escalation_brief = Some(brief.clone());
                self.feed(Input::AgentEscalate { turn, brief });
            }
            RunEvent::EndCall => self.feed(Input::AgentEndCall { turn }),
            RunEvent::Handoff(h) => {
                if !h.refused {
                    let trigger = serde_json::to_value(h.trigger).ok();
                    let trigger = trigger
                        .as_ref()
                        .and_then(|t| t.as_str())
                        .unwrap_or("unknown");
                    self.deps
                        .metrics
                        .handoffs
                        .with_label_values(&[&h.from, &h.to, trigger])
                        .inc();
                }
            }
            RunEvent::AgentChanged { .. } | RunEvent::ToolCall(_) => {}
        }
    }

    /// Carry out every action the machine has queued.
    async fn dispatch(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            match action {
                Action::Media(payload) => {
                    self.report.frames_out += 1;
                    self.deps.metrics.frames_out.inc();
                    self.send_msg(|sid| Outbound::Media {
                        stream_sid: sid,
                        payload,
                    })
                    .await;
                }
                Action::Mark(name) => {
                    self.report.marks_sent += 1;
                    self.send_msg(|sid| Outbound::Mark {
                        stream_sid: sid,
                        name,
                    })
                    .await;
                }
                Action::Clear => {
                    self.send_msg(|sid| Outbound::Clear { stream_sid: sid })
                        .await
                }
                Action::SttAudio(pcm) => self.stt_send(SttInput::Audio(pcm)),
                Action::SttFlush => self.stt_send(SttInput::Flush),
                Action::SttContinue => self.stt_send(SttInput::Continue),
                Action::StartTurn { turn, input } => match self.agent.as_mut() {
                    Some(link) => link.start_turn(turn, input),
                    None => {
                        if !matches!(input, CallerInput::Silence) {
                            debug!(?input, "no agent runtime: caller turn ignored");
                        }
                        self.feed(Input::AgentDone { turn });
                    }
                },
                Action::CancelTurn { turn } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.cancel(turn);
                    }
                }
                Action::Speak {
                    utterance,
                    seq,
                    text,
                } => self.tts.speak(SpeakJob {
                    utterance,
                    seq,
                    text,
                }),
                Action::CancelSpeech { utterance } => self.tts.cancel_through(utterance),
                Action::RecordHeard { heard, .. } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.record_heard(heard);
                    }
                }
                Action::RetractTurn { .. } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.retract();
                    }
                }
                Action::Transfer { brief } => {
                    self.transfer(brief);
                }
                Action::Hangup => self.end = Some(End::HungUp),
                Action::Measure(m) => self.report.measure(&self.deps.metrics, m),
            }
        }
    }

    fn stt_send(&mut self, input: SttInput) {
        let Some(stt) = self.stt.as_ref() else {
            if self.stt_opening.is_some() && self.stt_backlog.len() < STT_INPUT_CAPACITY {
                self.stt_backlog.push(input);
            } else if self.stt_opening.is_some() {
                self.report.stt_dropped += 1;
            }
            return;
        };
        if let Err(e) = stt.input.try_send(input) {
            self.report.stt_dropped += 1;
            debug!(error = %e, "STT input dropped");
        }
    }

    /// Hands the call to a person: the brief is saved, then the Twilio REST call (with
    /// its retries) runs beside the loop, which goes on reading and pacing frames; its
    /// result comes back through [`Session::on_transferred`].
    fn transfer(&mut self, brief: String) {
        self.report.escalation_brief = Some(brief);
        // The whisper route reads the brief from the record when the person answers.
        self.save_progress();
        let Some(t) = self.deps.voice.transfer.clone() else {
            info!("no transfer number configured: a call back was arranged");
            self.end = Some(End::HungUp);
            return;
        };
        let call_sid = self
            .start
            .as_ref()
            .map(|s| s.call_sid.clone())
            .unwrap_or_default();
        let saved = self.writer.as_ref().map(RecordWriter::flushed);
        self.transferring = Some(tokio::spawn(async move {
            if let Some(saved) = saved {
                saved.await;
            }
            t.transfer(&call_sid)
                .await
                .map(|()| t.number.clone())
                .map_err(|e| e.to_string())
        }));
    }

    /// The transfer's result: the person's number, or why it failed (the call ends).
    fn on_transferred(&mut self, result: Result<String, String>) {
        match result {
            Ok(number) => {
                info!(to = %number, "call transferred to a person");
                self.report.transferred_to = Some(number);
                // Twilio ends the stream (stop) once the new TwiML runs.
            }
            Err(e) => {
                warn!(error = %e, "transfer failed; ending the call");
                self.end = Some(End::HungUp);
            }
        }
    }

    async fn send_msg(&mut self, msg: impl FnOnce(String) -> Outbound) {
        let Some(sid) = self.start.as_ref().map(|s| s.stream_sid.clone()) else {
            return;
        };
        self.send(WsFrame::Text(telephony::encode(&msg(sid)))).await;
    }

    async fn send(&mut self, frame: WsFrame) {
        if self.socket_ok && self.out.send(frame).await.is_err() {
            self.socket_ok = false;
        }
    }

    /// Queues a snapshot of the call for the record writer; never waits.
    fn save_progress(&mut self) {
        let Some(writer) = self.writer.as_ref() else {
            return;
        };
        self.report.heard = self.machine.heard();
        let conv = self.agent.as_ref().and_then(|a| a.conversation());
        writer.progress(self.report.update(conv, &self.decoder, None));
    }

    async fn finish(mut self, end: End) {
        self.report.recording = self.audio.as_mut().and_then(CallerAudio::finish);
        if let Some((code, reason)) = self.refusal.take() {
            let _ = self.out.send(WsFrame::Reject { code, reason }).await;
        } else if end != End::Lost {
            let _ = self.out.send(WsFrame::Close).await;
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
        let update = self.report.update(conv, &self.decoder, Some(end));
        let outcome = update.outcome.clone();
        // After every snapshot still queued, so the final record is the one kept.
        let written = match self.writer.take() {
            Some(writer) => writer.finish(update).await,
            None => self.deps.store.call_updated(&start.call_sid, update).await,
        };
        if let Err(e) = written {
            warn!(error = %e, "could not finish call record");
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

/// A side task's output once it ends; never, while there is none.
async fn joined<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task.as_mut() {
        Some(t) => t.await,
        None => std::future::pending().await,
    }
}

async fn recv_stt(stt: &mut Option<SttStream>) -> Option<SttEvent> {
    match stt.as_mut() {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

async fn finished_turn(agent: &mut Option<AgentLink>) -> u64 {
    match agent.as_mut() {
        Some(link) => link.finished().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
