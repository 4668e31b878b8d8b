//! What a simulated call measured, from the caller's side of the line: per turn
//! ([`TurnStats`]: when it started and ended, latency to the reply, how much of the
//! reply played), each `clear` ([`ClearStats`]), counters over the call
//! ([`LineStats`]), who ended it ([`EndedBy`]) and the two recorded tracks
//! ([`SimResult`]). Times are ms on the 20 ms line clock unless named `wall`.

use serde::Serialize;

/// Client-side measurements of one caller turn. Times in ms; `*_ms` on the line
/// clock (20 ms per tick) unless named `wall`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TurnStats {
    pub index: usize,
    /// Line time the caller started this turn.
    pub started_ms: Option<u64>,
    /// Line time the caller's speech/digits ended (trailing silence excluded).
    pub input_end_ms: Option<u64>,
    pub speech_ms: u64,
    pub dtmf: String,
    /// Requested barge-in offset.
    pub barge_in_ms: Option<u64>,
    /// Bot audio of the previous reply heard before the caller started.
    pub heard_before_ms: u64,
    /// The bot was still talking when the caller started (a real barge-in).
    pub talked_over_bot: bool,
    /// Wall time from the end of caller input to the first bot audio frame of the
    /// reply. Audio still flowing when the input ended (the bot talked on) does not
    /// count, nor does audio the server then cleared: a reply starts after ≥ 100 ms
    /// of bot silence.
    pub latency_ms: Option<u64>,
    /// Line time from the end of caller input to the first bot audio frame played.
    pub line_latency_ms: Option<u64>,
    /// Bot audio played in reply to this turn (until the next turn starts).
    pub reply_ms: u64,
}

/// One `clear` from the server.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClearStats {
    /// Line time the clear arrived.
    pub at_ms: u64,
    /// The turn the caller was in (or had last spoken), if any.
    pub turn: Option<usize>,
    /// Line time since that turn started.
    pub after_turn_start_ms: Option<u64>,
    /// Buffered bot audio that was dropped (never heard).
    pub dropped_ms: u64,
    pub marks_flushed: usize,
}

/// Counters over the whole call.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LineStats {
    pub frames_sent: u64,
    pub speech_frames_sent: u64,
    pub dtmf_sent: u64,
    pub bot_bytes_received: u64,
    pub bot_bytes_played: u64,
    pub bot_bytes_cleared: u64,
    pub marks_received: u64,
    pub marks_echoed: u64,
    pub clears: u64,
    /// Server frames that did not parse (or named another stream).
    pub protocol_errors: u64,
    pub first_protocol_error: Option<String>,
    /// Wall time from `start` to the first bot audio frame received.
    pub greeting_latency_ms: Option<u64>,
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndedBy {
    /// Still running.
    None,
    /// The simulated caller sent `stop`.
    Caller,
    /// The server closed the socket.
    Server,
    /// The replay gave up (call timeout).
    Timeout,
}

/// The outcome of a simulated call.
#[derive(Debug, Clone)]
pub struct SimResult {
    /// Caller track, μ-law, one frame per tick.
    pub caller: Vec<u8>,
    /// Bot track as played (cleared audio absent), μ-law, aligned with `caller`.
    pub bot: Vec<u8>,
    pub turns: Vec<TurnStats>,
    pub clears: Vec<ClearStats>,
    pub stats: LineStats,
    pub ended_by: EndedBy,
    /// Line time of the whole call.
    pub line_ms: u64,
}
