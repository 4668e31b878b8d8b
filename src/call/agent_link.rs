//! The call's link to the agent runtime: owns the [`Conversation`], runs each caller
//! turn as a task (so the call loop never blocks on a model), cancels turns on
//! barge-in, and applies what-was-heard truncation once the conversation is back.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::agents::{CallerContext, CallerInput, Conversation, RunEvent, Runtime};

/// An agent event tagged with the machine's turn id.
pub type TaggedEvent = (u64, RunEvent);

type TurnResult = (u64, Conversation);

/// Conversation ownership and the turn in flight.
pub struct AgentLink {
    runtime: Arc<Runtime>,
    conv: Option<Conversation>,
    running: Option<(u64, CancellationToken, JoinHandle<TurnResult>)>,
    /// A turn to start as soon as the cancelled one hands the conversation back.
    queued: Option<(u64, CallerInput)>,
    /// Truncations to apply once the conversation is back.
    pending: Vec<Pending>,
    events: mpsc::UnboundedSender<TaggedEvent>,
}

enum Pending {
    Heard(String),
    Retract,
}

impl AgentLink {
    pub fn new(
        runtime: Arc<Runtime>,
        caller: CallerContext,
        events: mpsc::UnboundedSender<TaggedEvent>,
    ) -> Self {
        let conv = runtime.start(caller);
        Self {
            runtime,
            conv: Some(conv),
            running: None,
            queued: None,
            pending: Vec::new(),
            events,
        }
    }

    /// Record the opening greeting; returns (agent, text) to speak.
    pub fn greet(&mut self) -> Option<(String, String)> {
        let conv = self.conv.as_mut()?;
        let (tx, _rx) = mpsc::unbounded_channel();
        let text = self.runtime.greet(conv, &tx);
        Some((conv.active_agent().to_string(), text))
    }

    /// Start (or queue) the agent's turn `turn`.
    pub fn start_turn(&mut self, turn: u64, input: CallerInput) {
        let Some(mut conv) = self.conv.take() else {
            self.queued = Some((turn, input));
            return;
        };
        self.apply_pending(&mut conv);
        let runtime = self.runtime.clone();
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let out = self.events.clone();
        let handle = tokio::spawn(async move {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let forward = async {
                while let Some(ev) = rx.recv().await {
                    let _ = out.send((turn, ev));
                }
            };
            let run = async {
                let result = runtime.run_turn(&mut conv, input, &tx, &token).await;
                drop(tx);
                if let Err(e) = result {
                    warn!(error = %e, "agent turn failed");
                }
            };
            tokio::join!(run, forward);
            (turn, conv)
        });
        self.running = Some((turn, cancel, handle));
    }

    pub fn cancel(&mut self, turn: u64) {
        if let Some((t, token, _)) = &self.running {
            if *t == turn {
                token.cancel();
            }
        }
        if self.queued.as_ref().is_some_and(|(t, _)| *t == turn) {
            self.queued = None;
        }
    }

    pub fn record_heard(&mut self, heard: String) {
        self.pending.push(Pending::Heard(heard));
        self.flush_pending();
    }

    pub fn retract(&mut self) {
        self.pending.push(Pending::Retract);
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
                Pending::Heard(h) => conv.record_heard(&h),
                Pending::Retract => conv.retract_last_turn(),
            }
        }
    }

    /// Wait for the running turn to finish; pending forever when none runs.
    pub async fn finished(&mut self) -> u64 {
        let Some((_, _, handle)) = self.running.as_mut() else {
            return std::future::pending().await;
        };
        let joined = handle.await;
        let (turn, _, _) = self.running.take().expect("running turn");
        match joined {
            Ok((_, conv)) => {
                self.conv = Some(conv);
                self.flush_pending();
            }
            Err(e) => warn!(error = %e, "agent turn task died; the conversation is lost"),
        }
        if let Some((t, input)) = self.queued.take() {
            self.start_turn(t, input);
        }
        turn
    }

    /// The conversation, when no turn holds it.
    pub fn conversation(&self) -> Option<&Conversation> {
        self.conv.as_ref()
    }

    /// Wait for any running turn (cancelled) and hand back the conversation.
    pub async fn close(&mut self) -> Option<&mut Conversation> {
        if let Some((_, token, handle)) = self.running.take() {
            token.cancel();
            if let Ok((_, conv)) = handle.await {
                self.conv = Some(conv);
            }
        }
        self.flush_pending();
        self.conv.as_mut()
    }
}
