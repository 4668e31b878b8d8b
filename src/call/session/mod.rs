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

use super::agent_link::{AgentLink, LinkEvent};
use super::caller_audio::CallerAudio;
use super::identity::unix_now;
use super::machine::{Action, CallerInput, Input, Machine};
use super::record_writer::RecordWriter;
use super::recorder::Recorder;
use super::report::CallReport;
use super::transport::WsFrame;
use super::tts_worker::{self, SpeakJob, TtsHandle, TtsOutput};
use super::{CallDeps, End, StreamGate};
use crate::agents::{CallerContext, RunEvent, TurnId};
use crate::speech::{SpeechError, SttEvent, SttInput, SttStream, STT_INPUT_CAPACITY};
use crate::store::calls::{CallMedia, NewCall};
use crate::telephony::{self, Decoder, Inbound, Outbound, StartMeta};

/// Longest one frame may take to reach the carrier's socket before it is taken for
/// lost (the record is still written).
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Longest a call may take to say its closing line once the server closes it.
const CLOSING_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// Media messages kept while the call record is created (about 2 s of audio).
const HELD_MEDIA: usize = 100;
/// All inbound events kept meanwhile (keys and marks beyond the audio).
const HELD_EVENTS: usize = 1000;

mod actions;
mod admission;
mod ending;
mod speech;

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
    run_with_media(inbound, outbound, deps, gate, shutdown, CallMedia::twilio()).await
}

/// [`run`] for a stream whose audio reached the server another way than a carrier's
/// socket (the browser softphone's Opus, bridged to Media Streams frames): `media`
/// is what the call record says about codec and transport.
pub async fn run_with_media<S, K>(
    inbound: S,
    outbound: K,
    deps: CallDeps,
    gate: Option<Box<dyn StreamGate>>,
    shutdown: CancellationToken,
    media: CallMedia,
) where
    S: Stream<Item = WsFrame> + Unpin,
    K: Sink<WsFrame> + Unpin,
{
    let span = info_span!(
        "call",
        call_sid = tracing::field::Empty,
        stream_sid = tracing::field::Empty,
        transport = media.transport.as_str(),
    );
    let mut session = Session::new(deps, outbound, span.clone());
    session.gate = gate;
    session.media = media;
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
    /// The call record being created beside the loop, and the verified start waiting
    /// for it (see `admission.rs`).
    admitting: Option<JoinHandle<Result<(), crate::store::StoreError>>>,
    admitted: Option<(StartMeta, super::identity::CallerIdentity)>,
    /// What arrived while admitting, replayed once the call starts.
    held: Vec<Inbound>,
    held_media: usize,
    /// The server is closing this call: it ends by then, closing line heard or not.
    closing_deadline: Option<Instant>,
    /// A transfer to a person in flight (the Twilio REST call), beside the loop.
    transferring: Option<JoinHandle<Result<String, String>>>,
    tts: TtsHandle,
    tts_rx: mpsc::UnboundedReceiver<TtsOutput>,
    agent: Option<AgentLink>,
    report: CallReport,
    /// Saves the record beside the loop (from a verified start on).
    writer: Option<RecordWriter>,
    socket_ok: bool,
    end: Option<End>,
    /// The server's admission of this socket (see [`StreamGate`]).
    gate: Option<Box<dyn StreamGate>>,
    /// Close code and reason when the stream was refused.
    refusal: Option<(u16, String)>,
    /// Codec and transport, for the call record.
    media: CallMedia,
}

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    fn new(deps: CallDeps, out: K, span: tracing::Span) -> Self {
        let decoder = Decoder::new(deps.settings.limits);
        let machine = Machine::new(deps.settings.machine.clone());
        let (tts_tx, tts_rx) = mpsc::unbounded_channel();
        let tts = tts_worker::spawn(deps.voice.tts.clone(), tts_tx);
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
            admitting: None,
            admitted: None,
            held: Vec::new(),
            held_media: 0,
            closing_deadline: None,
            transferring: None,
            tts,
            tts_rx,
            agent: None,
            report: CallReport::default(),
            writer: None,
            socket_ok: true,
            end: None,
            gate: None,
            refusal: None,
            media: CallMedia::default(),
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
            if self.start.is_none()
                && self.admitted.is_none()
                && start_deadline.is_some_and(|d| Instant::now() >= d)
            {
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
            let awaiting_start =
                self.start.is_none() && self.admitted.is_none() && start_deadline.is_some();
            tokio::select! {
                biased;
                _ = shutdown.cancelled(), if self.closing_deadline.is_none() => self.begin_closing(),
                _ = sleep_until_opt(self.closing_deadline), if self.closing_deadline.is_some() => {
                    break End::Shutdown
                }
                frame = inbound.next() => match frame {
                    None | Some(WsFrame::Close) => break End::Lost,
                    Some(frame) => self.on_frame(frame).await,
                },
                Some(out) = self.tts_rx.recv() => {
                    let input = match out {
                        TtsOutput::Audio { utterance, seq, mulaw } => Input::TtsAudio { utterance, seq, audio: mulaw },
                        TtsOutput::Done { utterance, seq } => Input::TtsDone { utterance, seq },
                        TtsOutput::GiveUp { utterance } => {
                            warn!("the voice keeps failing: ending the call after the recorded goodbye");
                            Input::VoiceGaveUp { utterance }
                        }
                    };
                    self.feed(input);
                }
                event = recv_stt(&mut self.stt), if stt_open => self.on_stt(event),
                done = joined(&mut self.transferring), if self.transferring.is_some() => {
                    self.transferring = None;
                    self.on_transferred(done.unwrap_or_else(|e| Err(format!("transfer task failed: {e}"))));
                }
                created = joined(&mut self.admitting), if self.admitting.is_some() => {
                    self.admitting = None;
                    self.on_admitted(created.unwrap_or_else(|e| {
                        Err(crate::store::StoreError::Task(format!("creating the call record failed: {e}")))
                    }));
                }
                opened = joined(&mut self.stt_opening), if self.stt_opening.is_some() => {
                    self.stt_opening = None;
                    self.on_stt_opened(opened.unwrap_or_else(|e| {
                        Err(SpeechError::Provider(format!("opening STT failed: {e}")))
                    }));
                }
                event = agent_event(&mut self.agent) => match event {
                    LinkEvent::Event(turn, event) => self.on_agent_event(turn, event),
                    LinkEvent::Done(turn) => {
                        self.feed(Input::AgentDone { turn });
                        self.save_progress();
                    }
                },
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

    /// The server is shutting down and the drain time is up: a started call hears the
    /// closing line and ends (within [`CLOSING_MAX`]); one not started yet ends now.
    fn begin_closing(&mut self) {
        self.closing_deadline = Some(Instant::now() + CLOSING_MAX);
        if self.start.is_none() {
            self.end = Some(End::Shutdown);
            return;
        }
        if self.transferring.is_some() {
            // A person is being put on the line: let the transfer finish (the carrier
            // then ends the stream) rather than tell the caller to call back.
            info!("server shutting down: letting the transfer in flight finish");
            return;
        }
        info!("server shutting down: closing the call");
        let text = self.deps.settings.closing_line.clone();
        self.feed(Input::Close { text });
    }

    fn count_frame_in(&mut self) {
        self.report.frames_in += 1;
        self.deps.metrics.frames_in.inc();
    }

    /// Caller audio (μ-law) into the machine, 20 ms at a time.
    fn on_media(&mut self, payload: &[u8]) {
        if let Some(audio) = self.audio.as_mut() {
            for f in audio.push(payload) {
                self.feed(Input::Audio {
                    pcm16k: f.pcm16k,
                    speech_prob: f.speech_prob,
                });
            }
        }
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
            Ok(event) => self.on_event(event),
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

    fn on_event(&mut self, event: Inbound) {
        if self.admitted.is_some() && !matches!(event, Inbound::Start(_) | Inbound::Stop(_)) {
            // The call record is being created: keep what the caller sends meanwhile
            // (keys, marks, a few hundred ms of audio) for when the call starts.
            // Keys and marks are always kept (a card number may be keyed now); audio
            // up to about 2 s, the rest dropped and counted.
            let keep = match &event {
                Inbound::Media(_) => {
                    self.count_frame_in();
                    self.held_media < HELD_MEDIA
                }
                _ => self.held.len() < HELD_EVENTS,
            };
            if keep {
                self.held_media += usize::from(matches!(event, Inbound::Media(_)));
                self.held.push(event);
            } else {
                self.deps.metrics.frames_before_start.inc();
            }
            return;
        }
        match event {
            Inbound::Connected { .. } => debug!("carrier connected"),
            Inbound::Start(start) => self.on_start(start),
            Inbound::Media(media) => {
                self.count_frame_in();
                self.on_media(&media.payload);
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

async fn agent_event(agent: &mut Option<AgentLink>) -> LinkEvent {
    match agent.as_mut() {
        Some(link) => link.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
