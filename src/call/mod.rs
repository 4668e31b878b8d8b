//! One phone call.
//!
//! - [`machine`]: the sans-IO conversation state machine (turn-taking, barge-in,
//!   playout and marks, DTMF, re-prompts, call end).
//! - [`playout`]: outbound pacing and the mark ledger (what the caller heard).
//! - [`session`]: the tokio task wiring a Media Streams socket, speech providers and
//!   the agent runtime to the machine; with [`caller_audio`], [`tts_worker`],
//!   [`agent_link`], [`report`] and [`transfer`] as its parts, and [`identity`] for
//!   who the stream says is calling.

pub mod agent_link;
pub mod caller_audio;
pub mod identity;
pub mod last_resort;
pub mod machine;
pub mod playout;
pub mod record_writer;
pub mod recorder;
pub mod report;
pub mod retention;
pub mod session;
pub mod transfer;
pub mod transport;
pub mod tts_worker;
pub mod turn_text;

use std::path::PathBuf;
use std::sync::Arc;

pub use machine::MachineConfig;
pub use session::{run, run_with_media};
pub use transfer::Transfer;
pub use transport::WsFrame;

use crate::agents::Runtime;
use crate::metrics::Metrics;
use crate::speech::{SpeechToText, TextToSpeech, VadFactory};
use crate::store::Store;
use crate::telephony::Limits;

/// What every call needs from the process; cheap to clone.
#[derive(Clone)]
pub struct CallDeps {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<CallSettings>,
    pub voice: Arc<VoiceStack>,
    /// Exports each finished call's trace (OTLP), when configured.
    pub telemetry: crate::telemetry::Telemetry,
}

/// Per-call settings derived from configuration at start-up.
#[derive(Debug, Clone)]
pub struct CallSettings {
    pub limits: Limits,
    pub machine: MachineConfig,
    pub max_errors: u64,
    /// Directory for caller recordings (`None` = don't record).
    pub recordings_dir: Option<PathBuf>,
    /// How a stream proves which call and caller it is.
    pub auth: identity::StreamAuth,
    /// A socket that sends no valid `start` this long after opening is closed.
    pub start_timeout: std::time::Duration,
    /// Said to a live call when the server closes it (drain time up).
    pub closing_line: String,
}

/// The server's admission of one media socket, told when the stream has
/// authenticated itself (a valid `start`). Dropped when the session ends.
pub trait StreamGate: Send {
    /// Free the socket's unauthenticated slot and take a call slot; `Err` is the close
    /// reason when the server is at its concurrent-call cap.
    fn authenticated(&mut self) -> Result<(), &'static str>;
}

/// The providers a call talks to, chosen at start-up.
pub struct VoiceStack {
    pub vad: Option<Arc<dyn VadFactory>>,
    pub stt: Option<Arc<dyn SpeechToText>>,
    /// One voice for every agent.
    pub tts: Arc<dyn TextToSpeech>,
    /// The agent runtime; `None` plays only `greeting` (no conversation).
    pub runtime: Option<Arc<Runtime>>,
    /// (agent, text) spoken at the start when there is no runtime.
    pub greeting: Option<(String, String)>,
    /// Live transfer to a person; `None` = arrange a call back instead.
    pub transfer: Option<Transfer>,
}

/// How a call's session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The carrier sent `stop`.
    Stopped,
    /// The socket closed or failed without `stop`.
    Lost,
    /// The server is shutting down.
    Shutdown,
    /// Too many errors, or a fatal one: we closed the call.
    Closed,
    /// We ended the call (goodbye, or escalation without a live transfer).
    HungUp,
}
