//! One simulated phone call, sans-IO: Twilio's side of a Media Streams socket
//! plus a caller who follows a scenario.
//!
//! Time is a line clock of 20 ms **ticks**. Each [`CallSim::tick`] sends exactly
//! one inbound `media` frame (caller speech, or μ-law silence when the caller is
//! quiet — a phone line never stops) and plays exactly one frame of buffered bot
//! audio through [`CarrierPlayout`], echoing the marks it reaches. Both directions are
//! recorded on this one timeline, so the recording is what the caller heard.
//! The IO driver decides *when* to tick (see `client`); wall-clock instants are
//! passed in only to measure latency and to know whether the bot is talking.
//!
//! The caller alternates between *listening* and *speaking*. Listening before
//! turn `n` ends when the bot's reply has finished (it played something, the
//! buffer is empty, every mark echoed, and `reply_gap` ticks passed without bot
//! audio), when `barge_in_ms` of the reply has played (turn `n` talks over it),
//! or after `reply_timeout` ticks without any reply. Except for barge-ins, a turn
//! starts on a tick that is a multiple of [`TURN_GRID_TICKS`], so every run feeds the
//! server's audio path at the same sample alignment (how long the server took to
//! answer moves a turn by whole grid steps only) and replays are reproducible.
//! Speaking sends the turn's
//! audio, its DTMF digits (200 ms apart) and its trailing silence. After the
//! last turn the caller listens once more, then sends `stop`.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::audio::frames::FRAME_MS;
use crate::telephony::{
    decode_outbound, ClientEncoder, Dtmf, Inbound, Mark, MediaFormat, Outbound, StartMeta, Stop,
    Track,
};

pub use super::caller_script::CallerTurn;
use super::caller_script::{self, silent_step, Step};
use super::carrier_playout::CarrierPlayout;
pub use super::measurements::{ClearStats, EndedBy, LineStats, SimResult, TurnStats};

pub(super) const TICK_MS: u64 = FRAME_MS as u64;
/// Caller turns start on multiples of 8 ticks (160 ms): the period after which 20 ms
/// line frames and a 32 ms VAD window (Silero's 512 samples at 16 kHz) line up again.
/// Without it, when a turn starts depends on server timing, the VAD's window phase
/// at the caller's first word differs from run to run, and so (by a frame or two)
/// does where the recogniser's audio starts — enough to change a borderline transcript.
pub const TURN_GRID_TICKS: u64 = 8;

/// Timing rules of the simulated caller.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Bot silence (ticks) after which its reply counts as finished.
    pub reply_gap_ticks: u64,
    /// Ticks to wait for a reply that never starts.
    pub reply_timeout_ticks: u64,
    /// Listen for a greeting before the first turn.
    pub wait_for_greeting: bool,
    /// Fast mode: the bot counts as talking until this long after its last audio arrived.
    pub bot_quiet: Duration,
}

impl SimConfig {
    /// Rules from milliseconds.
    pub fn from_ms(reply_gap_ms: u64, reply_timeout_ms: u64, wait_for_greeting: bool) -> Self {
        SimConfig {
            reply_gap_ticks: reply_gap_ms.div_ceil(TICK_MS),
            reply_timeout_ticks: reply_timeout_ms.div_ceil(TICK_MS),
            wait_for_greeting,
            bot_quiet: Duration::from_millis(100),
        }
    }
}

/// Identity of the simulated call (what `start` carries).
#[derive(Debug, Clone)]
pub struct CallIds {
    pub account_sid: String,
    pub stream_sid: String,
    pub call_sid: String,
    pub custom_parameters: BTreeMap<String, String>,
}

#[derive(Debug)]
enum Phase {
    Listening { next: usize },
    Speaking { idx: usize, steps: VecDeque<Step> },
    Stopped,
}

/// The simulated call. Feed it server frames ([`CallSim::on_server`]) and ticks.
#[derive(Debug)]
pub struct CallSim {
    cfg: SimConfig,
    ids: CallIds,
    enc: ClientEncoder,
    turns: Vec<CallerTurn>,
    phase: Phase,
    playout: CarrierPlayout,
    tick: u64,
    started_at: Option<Instant>,
    /// Reply bookkeeping since the last end of caller input (or the call start).
    reply_wait_start: u64,
    reply_played_ticks: u64,
    last_played_tick: Option<u64>,
    last_media_at: Option<Instant>,
    /// (turn, wall instant of its input end) while its first reply frame is awaited.
    awaiting_reply: Option<(usize, Instant)>,
    awaiting_play: Option<usize>,
    input_end_at: Vec<Option<Instant>>,
    /// The turn whose reply is playing now (gets `reply_ms`).
    replying_to: Option<usize>,
    current_turn: Option<usize>,
    caller: Vec<u8>,
    bot: Vec<u8>,
    turn_stats: Vec<TurnStats>,
    clears: Vec<ClearStats>,
    stats: LineStats,
    ended_by: EndedBy,
}

impl CallSim {
    /// A call that will play `turns` with the given identity and rules.
    pub fn new(ids: CallIds, turns: Vec<CallerTurn>, cfg: SimConfig) -> Self {
        let turn_stats = turns
            .iter()
            .enumerate()
            .map(|(index, t)| TurnStats {
                index,
                speech_ms: t.frames.len() as u64 * TICK_MS,
                dtmf: t.dtmf.clone(),
                barge_in_ms: t.barge_in_ms,
                ..TurnStats::default()
            })
            .collect();
        CallSim {
            cfg,
            ids,
            enc: ClientEncoder::new(),
            input_end_at: vec![None; turns.len()],
            turns,
            // Without a greeting to wait for, the first tick starts turn 0.
            phase: Phase::Listening { next: 0 },
            playout: CarrierPlayout::new(),
            tick: 0,
            started_at: None,
            reply_wait_start: 0,
            reply_played_ticks: 0,
            last_played_tick: None,
            last_media_at: None,
            awaiting_reply: None,
            awaiting_play: None,
            replying_to: None,
            current_turn: None,
            caller: Vec::new(),
            bot: Vec::new(),
            turn_stats,
            clears: Vec::new(),
            stats: LineStats::default(),
            ended_by: EndedBy::None,
        }
    }

    /// `connected` and `start`, exactly as Twilio opens a stream.
    pub fn open(&mut self, now: Instant) -> Vec<String> {
        self.started_at = Some(now);
        let start = StartMeta {
            stream_sid: self.ids.stream_sid.clone(),
            account_sid: self.ids.account_sid.clone(),
            call_sid: self.ids.call_sid.clone(),
            tracks: vec![Track::Inbound],
            custom_parameters: self.ids.custom_parameters.clone(),
            media_format: MediaFormat::mulaw_8k_mono(),
        };
        vec![
            self.enc.encode(&Inbound::Connected {
                protocol: "Call".into(),
                version: "1.0.0".into(),
            }),
            self.enc.encode(&Inbound::Start(start)),
        ]
    }

    /// Handle one text frame from the server; returns frames to send back now
    /// (mark echoes). Malformed frames are counted, never fatal.
    pub fn on_server(&mut self, text: &str, now: Instant) -> Vec<String> {
        let msg = match decode_outbound(text) {
            Ok(m) => m,
            Err(e) => {
                self.protocol_error(format!("{e}: {}", truncate(text, 120)));
                return Vec::new();
            }
        };
        let sid = match &msg {
            Outbound::Media { stream_sid, .. }
            | Outbound::Mark { stream_sid, .. }
            | Outbound::Clear { stream_sid } => stream_sid,
        };
        if *sid != self.ids.stream_sid {
            self.protocol_error(format!("{} for unknown stream {sid}", msg.event_name()));
            return Vec::new();
        }
        let mut out = Vec::new();
        match msg {
            Outbound::Media { payload, .. } => self.on_media(payload, now),
            Outbound::Mark { name, .. } => {
                self.stats.marks_received += 1;
                if let Some(name) = self.playout.push_mark(name) {
                    out.push(self.echo(name));
                }
            }
            Outbound::Clear { .. } => {
                let cleared = self.playout.clear();
                self.stats.clears += 1;
                self.stats.bot_bytes_cleared += cleared.dropped_bytes as u64;
                let turn = self.current_turn;
                self.clears.push(ClearStats {
                    at_ms: self.tick * TICK_MS,
                    turn,
                    after_turn_start_ms: turn
                        .and_then(|t| self.turn_stats[t].started_ms)
                        .map(|s| (self.tick * TICK_MS).saturating_sub(s)),
                    dropped_ms: cleared.dropped_bytes as u64 / 8,
                    marks_flushed: cleared.marks.len(),
                });
                // Audio that arrived after a turn's input ended and was then cleared
                // was not the reply to it: measure that turn's latency again.
                if let Some(t) = turn {
                    if let Some(end) = self.input_end_at[t] {
                        let ts = &mut self.turn_stats[t];
                        ts.latency_ms = None;
                        ts.line_latency_ms = None;
                        ts.reply_ms = 0;
                        self.awaiting_reply = Some((t, end));
                        self.awaiting_play = None;
                        self.reply_played_ticks = 0;
                        self.reply_wait_start = self.tick;
                    }
                }
                for name in cleared.marks {
                    out.push(self.echo(name));
                }
            }
        }
        out
    }

    fn on_media(&mut self, payload: Vec<u8>, now: Instant) {
        self.stats.bot_bytes_received += payload.len() as u64;
        // Audio that continues a stream already flowing when the caller stopped is
        // not a reply; a reply starts after the bot was quiet for `bot_quiet`.
        let continuing = self
            .last_media_at
            .is_some_and(|t| now.saturating_duration_since(t) < self.cfg.bot_quiet);
        self.last_media_at = Some(now);
        if self.stats.greeting_latency_ms.is_none() {
            if let Some(t0) = self.started_at {
                self.stats.greeting_latency_ms = Some(ms(now.saturating_duration_since(t0)));
            }
        }
        if !continuing {
            if let Some((t, end)) = self.awaiting_reply.take() {
                self.turn_stats[t].latency_ms = Some(ms(now.saturating_duration_since(end)));
                self.awaiting_play = Some(t);
            }
        }
        self.playout.push_audio(payload);
    }

    /// Advance the line by one 20 ms frame; returns the frames to send.
    pub fn tick(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        self.advance_phase(&mut out);
        if matches!(self.phase, Phase::Stopped) {
            return out;
        }
        let mut step = silent_step();
        if let Phase::Speaking { steps, .. } = &mut self.phase {
            if let Some(s) = steps.pop_front() {
                step = s;
            }
        }
        if let Some(d) = step.dtmf {
            self.stats.dtmf_sent += 1;
            out.push(self.enc.encode(&Inbound::Dtmf(Dtmf {
                stream_sid: self.ids.stream_sid.clone(),
                track: Track::Inbound,
                digit: d.to_string(),
            })));
        }
        out.push(self.enc.media(&self.ids.stream_sid, &step.frame));
        self.caller.extend_from_slice(&step.frame);
        self.stats.frames_sent += 1;
        if step.speech {
            self.stats.speech_frames_sent += 1;
        }

        let played = self.playout.tick();
        self.bot.extend_from_slice(&played.frame);
        if played.audio_bytes > 0 {
            self.stats.bot_bytes_played += played.audio_bytes as u64;
            self.reply_played_ticks += 1;
            self.last_played_tick = Some(self.tick);
            if let Some(t) = self.replying_to {
                self.turn_stats[t].reply_ms += TICK_MS;
            }
            if let Some(t) = self.awaiting_play.take() {
                let end = self.turn_stats[t].input_end_ms.unwrap_or(0);
                self.turn_stats[t].line_latency_ms =
                    Some((self.tick * TICK_MS).saturating_sub(end));
            }
        }
        for name in played.marks {
            out.push(self.echo(name));
        }
        self.tick += 1;

        if step.input_end_after {
            if let Phase::Speaking { idx, .. } = self.phase {
                self.input_ended(idx, now);
            }
        }
        if let Phase::Speaking { idx, steps } = &self.phase {
            if steps.is_empty() {
                self.phase = Phase::Listening { next: idx + 1 };
            }
        }
        out
    }

    fn input_ended(&mut self, idx: usize, now: Instant) {
        self.turn_stats[idx].input_end_ms = Some(self.tick * TICK_MS);
        self.input_end_at[idx] = Some(now);
        self.reply_wait_start = self.tick;
        self.reply_played_ticks = 0;
        self.awaiting_reply = Some((idx, now));
        self.awaiting_play = None;
        self.replying_to = Some(idx);
    }

    /// Listening → speaking / stopped, at the start of a tick.
    fn advance_phase(&mut self, out: &mut Vec<String>) {
        let Phase::Listening { next } = self.phase else {
            return;
        };
        let first_without_greeting = next == 0 && self.tick == 0 && !self.cfg.wait_for_greeting;
        let waited = self.tick - self.reply_wait_start;
        let started = self.reply_played_ticks > 0;
        let finished = started
            && self.playout.is_idle()
            && self
                .last_played_tick
                .is_none_or(|t| self.tick - t > self.cfg.reply_gap_ticks);
        let timed_out = !started && waited >= self.cfg.reply_timeout_ticks;
        let barge = self
            .turns
            .get(next)
            .and_then(|t| t.barge_in_ms)
            .is_some_and(|b| {
                self.reply_played_ticks * TICK_MS >= b && self.playout.buffered_bytes() > 0
            });
        if !(first_without_greeting || finished || timed_out || barge) {
            return;
        }
        if next >= self.turns.len() {
            self.stop(EndedBy::Caller, out);
            return;
        }
        if !barge && !self.tick.is_multiple_of(TURN_GRID_TICKS) {
            return;
        }
        self.start_turn(next);
    }

    fn start_turn(&mut self, idx: usize) {
        let steps = caller_script::steps(&self.turns[idx]);
        let ts = &mut self.turn_stats[idx];
        ts.started_ms = Some(self.tick * TICK_MS);
        ts.heard_before_ms = self.reply_played_ticks * TICK_MS;
        ts.talked_over_bot = self.playout.buffered_bytes() > 0;
        self.current_turn = Some(idx);
        self.replying_to = None;
        self.awaiting_reply = None;
        self.awaiting_play = None;
        self.phase = Phase::Speaking { idx, steps };
    }

    fn stop(&mut self, by: EndedBy, out: &mut Vec<String>) {
        if matches!(self.phase, Phase::Stopped) {
            return;
        }
        out.push(self.enc.encode(&Inbound::Stop(Stop {
            stream_sid: self.ids.stream_sid.clone(),
            account_sid: self.ids.account_sid.clone(),
            call_sid: self.ids.call_sid.clone(),
        })));
        self.phase = Phase::Stopped;
        self.ended_by = by;
    }

    /// Give up (call timeout): returns the `stop` frame to send.
    pub fn abort(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        self.stop(EndedBy::Timeout, &mut out);
        out
    }

    /// The server closed the socket.
    pub fn on_closed(&mut self) {
        if !matches!(self.phase, Phase::Stopped) {
            self.phase = Phase::Stopped;
            self.ended_by = EndedBy::Server;
        }
    }

    /// The call is over (stop sent or socket closed).
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Stopped)
    }

    /// Fast mode: may the next tick happen without waiting 20 ms of wall time?
    /// Yes while the caller speaks over a quiet line, and while bot audio is
    /// buffered and the caller listens (it is played as soon as it arrives).
    pub fn fast_ready(&self, now: Instant) -> bool {
        match &self.phase {
            Phase::Stopped => false,
            Phase::Speaking { .. } => {
                self.playout.buffered_bytes() == 0
                    && self
                        .last_media_at
                        .is_none_or(|t| now.saturating_duration_since(t) >= self.cfg.bot_quiet)
            }
            Phase::Listening { .. } => self.playout.buffered_bytes() > 0,
        }
    }

    /// Ticks elapsed (line time / 20 ms).
    pub fn ticks(&self) -> u64 {
        self.tick
    }

    /// Everything measured, plus the two recorded tracks.
    pub fn finish(self) -> SimResult {
        SimResult {
            caller: self.caller,
            bot: self.bot,
            turns: self.turn_stats,
            clears: self.clears,
            stats: self.stats,
            ended_by: self.ended_by,
            line_ms: self.tick * TICK_MS,
        }
    }

    fn echo(&mut self, name: String) -> String {
        self.stats.marks_echoed += 1;
        self.enc.encode(&Inbound::Mark(Mark {
            stream_sid: self.ids.stream_sid.clone(),
            name,
        }))
    }

    fn protocol_error(&mut self, what: String) {
        self.stats.protocol_errors += 1;
        if self.stats.first_protocol_error.is_none() {
            self.stats.first_protocol_error = Some(what);
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
