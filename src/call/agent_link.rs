//! The call's link to the agent runtime: owns the [`Conversation`], runs each caller
//! turn as a task (so the call loop never blocks on a model), cancels turns on
//! barge-in, and applies what-was-heard truncation and retractions — each to the
//! [`TurnId`] it names — once the conversation is back.
//!
//! The session waits on [`AgentLink::next`]: the running turn's events, tagged with
//! its id, then its end. A cancelled turn's late events go with its channel.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::agents::{CallerContext, CallerInput, Conversation, RunEvent, Runtime, TurnId};

/// What the running turn did.
#[derive(Debug)]
pub enum LinkEvent {
    /// The turn emitted an event.
    Event(TurnId, RunEvent),
    /// The turn finished (or was cancelled); the conversation is back.
    Done(TurnId),
}

/// The turn in flight.
struct Running {
    turn: TurnId,
    cancel: CancellationToken,
    events: mpsc::UnboundedReceiver<RunEvent>,
    handle: JoinHandle<Conversation>,
}

/// Conversation ownership and the turn in flight.
pub struct AgentLink {
    runtime: Arc<Runtime>,
    conv: Option<Conversation>,
    running: Option<Running>,
    /// A turn to start as soon as the cancelled one hands the conversation back.
    queued: Option<(TurnId, CallerInput)>,
    /// Truncations to apply once the conversation is back.
    pending: Vec<Pending>,
}

enum Pending {
    Heard(TurnId, String),
    Retract(TurnId),
}

impl AgentLink {
    pub fn new(runtime: Arc<Runtime>, caller: CallerContext) -> Self {
        let conv = runtime.start(caller);
        Self {
            runtime,
            conv: Some(conv),
            running: None,
            queued: None,
            pending: Vec::new(),
        }
    }

    /// Record the opening greeting (turn [`TurnId::GREETING`]); returns (agent, text)
    /// to speak.
    pub fn greet(&mut self) -> Option<(String, String)> {
        let conv = self.conv.as_mut()?;
        let (tx, _rx) = mpsc::unbounded_channel();
        let text = self.runtime.greet(conv, &tx);
        Some((conv.active_agent().to_string(), text))
    }

    /// Start (or queue, while a cancelled turn still holds the conversation) `turn`.
    pub fn start_turn(&mut self, turn: TurnId, input: CallerInput) {
        let Some(mut conv) = self.conv.take() else {
            self.queued = Some((turn, input));
            return;
        };
        self.apply_pending(&mut conv);
        let runtime = self.runtime.clone();
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let (tx, events) = mpsc::unbounded_channel();
        let handle = tokio::spawn(async move {
            if let Err(e) = runtime.run_turn(&mut conv, turn, input, &tx, &token).await {
                warn!(error = %e, %turn, "agent turn failed");
            }
            conv
        });
        self.running = Some(Running {
            turn,
            cancel,
            events,
            handle,
        });
    }

    /// Cancel `turn` if it runs or waits to.
    pub fn cancel(&mut self, turn: TurnId) {
        if let Some(r) = self.running.as_ref().filter(|r| r.turn == turn) {
            r.cancel.cancel();
        }
        if self.queued.as_ref().is_some_and(|(t, _)| *t == turn) {
            self.queued = None;
        }
    }

    /// The caller heard only `heard` of `turn`'s reply.
    pub fn record_heard(&mut self, turn: TurnId, heard: String) {
        self.pending.push(Pending::Heard(turn, heard));
        self.flush_pending();
    }

    /// Take `turn` back (the caller went on before hearing its reply).
    pub fn retract(&mut self, turn: TurnId) {
        self.pending.push(Pending::Retract(turn));
        self.flush_pending();
    }

    fn flush_pending(&mut self) {
        if let Some(mut conv) = self.conv.take() {
            self.apply_pending(&mut conv);
            self.conv = Some(conv);
        }
    }

    fn apply_pending(&mut self, conv: &mut Conversation) {
        for p in self.pending.drain(..) {
            match p {
                Pending::Heard(turn, h) => conv.record_heard(turn, &h),
                Pending::Retract(turn) => conv.retract_turn(turn),
            }
        }
    }

    /// The running turn's next event, then its end; pending forever when none runs.
    pub async fn next(&mut self) -> LinkEvent {
        let Some(running) = self.running.as_mut() else {
            return std::future::pending().await;
        };
        if let Some(event) = running.events.recv().await {
            return LinkEvent::Event(running.turn, event);
        }
        // The task dropped its sender: it is done.
        let joined = (&mut running.handle).await;
        let turn = running.turn;
        self.running = None;
        match joined {
            Ok(conv) => {
                self.conv = Some(conv);
                self.flush_pending();
            }
            Err(e) => warn!(error = %e, "agent turn task died; the conversation is lost"),
        }
        if let Some((t, input)) = self.queued.take() {
            self.start_turn(t, input);
        }
        LinkEvent::Done(turn)
    }

    /// The conversation, when no turn holds it.
    pub fn conversation(&self) -> Option<&Conversation> {
        self.conv.as_ref()
    }

    /// Wait for any running turn (cancelled) and hand back the conversation.
    pub async fn close(&mut self) -> Option<&mut Conversation> {
        if let Some(running) = self.running.take() {
            running.cancel.cancel();
            if let Ok(conv) = running.handle.await {
                self.conv = Some(conv);
            }
        }
        self.flush_pending();
        self.conv.as_mut()
    }
}
