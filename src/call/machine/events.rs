//! The machine's vocabulary: timestamped [`Input`]s in, [`Action`]s out, the
//! [`Measure`]s it reports and the call [`State`]. Turn ids are [`TurnId`]s, the same
//! ids the agent runtime, the conversation and the trace use; a reply's utterance id
//! (for TTS and playout) is the id of the turn it answers.

use std::time::Duration;

use crate::agents::{CallerInput, TurnId};

/// A timestamped event on the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The media stream started; speak `greeting` (as `agent`) if given.
    Start {
        greeting: Option<(String, String)>,
    },
    /// A frame of caller audio (16 kHz, for STT; 20 ms from the call layer) with its VAD
    /// speech probability. Turn-taking counts its duration (samples / 16 kHz), not frames.
    Audio {
        pcm16k: Vec<f32>,
        speech_prob: f32,
    },
    SttPartial {
        text: String,
    },
    /// The words up to the caller's pause (the decode started at [`Action::SttPause`]):
    /// what the final would be if the turn ended now.
    SttTentative {
        text: String,
    },
    SttFinal {
        text: String,
        confidence: f32,
        /// The text also covers the utterance before the last [`Action::SttContinue`].
        continued: bool,
    },
    /// How STT decoded the final that follows (local recognisers only).
    SttDecoded {
        queue: Duration,
        decode: Duration,
        speculative: bool,
    },
    /// The agent produced a sentence to say in turn `turn`.
    AgentSay {
        turn: TurnId,
        agent: String,
        text: String,
    },
    /// The agent wants a human to take over after this reply.
    AgentEscalate {
        turn: TurnId,
        brief: String,
    },
    /// The agent ended the conversation (after this reply).
    AgentEndCall {
        turn: TurnId,
    },
    /// The voice kept failing: the recorded goodbye was queued as `utterance`'s audio;
    /// hang up once it has played (at once if that reply is already over).
    VoiceGaveUp {
        utterance: TurnId,
    },
    /// The agent turn finished (or was cancelled).
    AgentDone {
        turn: TurnId,
    },
    /// Audio of sentence `seq` of utterance `utterance`, 8 kHz μ-law.
    TtsAudio {
        utterance: TurnId,
        seq: u32,
        audio: Vec<u8>,
    },
    /// Sentence `seq` is fully synthesized.
    TtsDone {
        utterance: TurnId,
        seq: u32,
    },
    Mark {
        name: String,
    },
    Dtmf {
        digit: char,
    },
    /// We close the call (the server is shutting down): stop what plays and what
    /// runs, say `text`, then hang up. Caller input is ignored from here on.
    Close {
        text: String,
    },
}

/// Something the session must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send one 20 ms μ-law frame.
    Media(Vec<u8>),
    Mark(String),
    /// Tell the carrier to drop buffered audio (barge-in).
    Clear,
    /// Feed caller audio (16 kHz) to STT.
    SttAudio(Vec<f32>),
    /// The caller's turn ended: finalize STT.
    SttFlush,
    /// The caller went on after a pause that ended their turn, before any reply was
    /// heard: the audio that follows continues the flushed utterance.
    SttContinue,
    /// The caller went quiet during their turn: STT may start the final decode now.
    SttPause,
    /// The caller spoke again after [`Action::SttPause`].
    SttResume,
    StartTurn {
        turn: TurnId,
        input: CallerInput,
    },
    CancelTurn {
        turn: TurnId,
    },
    /// Synthesize sentence `seq` of `utterance`.
    Speak {
        utterance: TurnId,
        seq: u32,
        text: String,
    },
    CancelSpeech {
        utterance: TurnId,
    },
    /// The reply of `turn` by `agent` was interrupted: the caller heard only `heard`.
    RecordHeard {
        turn: TurnId,
        agent: String,
        heard: String,
    },
    /// Turn `turn` was cut off before the caller heard anything and its caller words are
    /// merged into the next turn: forget it (its caller line and any partial reply).
    RetractTurn {
        turn: TurnId,
    },
    /// Transfer the call to a human with this brief, then the call ends.
    Transfer {
        brief: String,
    },
    Hangup,
    /// A measurement for the trace and metrics.
    Measure(Measure),
}

/// The recognition side of one turn's latency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SttStages {
    /// End of speech → the machine ended the turn (the endpoint wait); `None` for a
    /// turn without speech (keys, silence).
    pub endpoint: Option<Duration>,
    /// Waiting for a decode slot shared with other calls (local recognisers).
    pub queue: Option<Duration>,
    /// The final decode itself (local recognisers).
    pub decode: Option<Duration>,
    /// The decode started at the caller's pause, overlapping the endpoint wait.
    pub speculative: bool,
}

/// Latency and event measurements.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// End of caller speech → each stage of the reply, for turn `turn`.
    Turn {
        turn: TurnId,
        stt_final: Duration,
        first_token: Option<Duration>,
        first_audio: Option<Duration>,
        first_frame: Duration,
        /// Where the time before the final transcript went.
        stt: SttStages,
    },
    /// Speech onset → `clear` sent.
    BargeIn {
        turn: TurnId,
        reaction: Duration,
        heard_chars: usize,
    },
    /// An interruption that turned out to be noise or a backchannel.
    FalseInterruption { turn: TurnId, text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Listening,
    CallerSpeaking,
    Thinking,
    Speaking,
    Ended,
}
