//! The machine's timing and threshold settings (`[call]` in the config file).

use std::time::Duration;

/// Timing and threshold settings (all configurable under `[call]`).
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// VAD probability at or above which a frame is speech.
    pub vad_on: f32,
    /// VAD probability below which a frame is silence (hysteresis).
    pub vad_off: f32,
    /// Speech must last this long to count as the caller starting to talk.
    pub min_speech: Duration,
    /// Silence that ends the caller's turn.
    pub endpoint_silence: Duration,
    /// Silence that ends the turn when the words so far look unfinished ("and", "my", …).
    pub endpoint_silence_unfinished: Duration,
    /// Silence that ends the turn once the transcript of the words up to the pause has
    /// come back and reads as complete (capped at `endpoint_silence`).
    pub endpoint_silence_complete: Duration,
    /// Silence after which STT is told the caller paused (`SttPause`: start the final
    /// decode now); zero never tells it.
    pub speculate_after: Duration,
    /// Caller speech over the bot must last this long to interrupt it.
    pub barge_in_min: Duration,
    /// Audio kept from before speech onset and sent to STT with the turn.
    pub preroll: Duration,
    /// Caller silence after the bot finished before a re-prompt.
    pub reprompt_after: Duration,
    /// Re-prompts ("are you still there?") on a silent line; the silent turn after the
    /// last one is the closing turn: its reply (the goodbye) is heard in full, then the
    /// call ends.
    pub max_reprompts: u32,
    /// Wait after the last DTMF digit before passing the digits on (`#` ends at once).
    pub dtmf_timeout: Duration,
    /// A final transcript not back this long after the turn ended counts as empty.
    pub stt_timeout: Duration,
    /// 20 ms frames per marked chunk of outbound audio.
    pub frames_per_mark: usize,
    /// Frames sent ahead of real time.
    pub playout_lead_frames: usize,
    /// A mark not echoed this long after its audio should have played counts as heard.
    pub mark_timeout: Duration,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self {
            vad_on: 0.5,
            vad_off: 0.35,
            min_speech: Duration::from_millis(60),
            endpoint_silence: Duration::from_millis(500),
            endpoint_silence_unfinished: Duration::from_millis(1200),
            endpoint_silence_complete: Duration::from_millis(250),
            speculate_after: Duration::from_millis(100),
            barge_in_min: Duration::from_millis(160),
            preroll: Duration::from_millis(200),
            reprompt_after: Duration::from_secs(8),
            max_reprompts: 2,
            dtmf_timeout: Duration::from_millis(1500),
            stt_timeout: Duration::from_secs(15),
            frames_per_mark: 10,
            playout_lead_frames: 2,
            mark_timeout: Duration::from_secs(3),
        }
    }
}
