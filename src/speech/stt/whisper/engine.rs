//! Embedded Whisper speech-to-text (tiny.en or base through whisper.cpp / `whisper-rs`).
//!
//! [`WhisperEngine`] holds the model, loaded once and shared by every call; each
//! stream owns its own `WhisperState` (decoder buffers). [`WhisperStt`] implements
//! [`SpeechToText`] by re-decoding the growing utterance buffer (see
//! [`crate::speech::stt::rolling`]). Decoding settings favour latency: greedy, single
//! segment, no timestamps, English (multilingual models are told the language, so they
//! transcribe rather than detect or translate), no temperature fallback, and optionally
//! an encoder window (`audio_ctx`) shrunk to the audio actually present.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::speech::stt::rolling::{self as stt_rolling, RollingConfig, Transcriber, Transcript};
use crate::speech::stt::whisper::{ensure_ggml, WhisperModel, FETCH_HINT};
use crate::speech::{SpeechError, SpeechToText, SttStream};

/// Whisper's input sample rate.
pub const SAMPLE_RATE: usize = crate::speech::STT_RATE as usize;
/// Encoder frames per second of audio (1500 frames for 30 s).
const ENCODER_FRAMES_PER_SEC: usize = 50;

/// Decoding options for the embedded Whisper model.
#[derive(Debug, Clone)]
pub struct WhisperConfig {
    /// Which model [`WhisperEngine::from_cache`] converts and loads.
    pub model: WhisperModel,
    /// CPU threads per decode.
    pub threads: usize,
    /// Shrink the encoder window to the audio present (`audio_ctx`); `None` = full 30 s.
    /// The value is extra encoder frames (20 ms each) added after the audio.
    /// Default `None`: measured on real speech, shrinking makes tiny.en loop
    /// ("10 of clubs 10 of clubs ...", WER 78 % vs 7 %); base tolerates it (margin 256:
    /// same telephone WER, ≈ 4× less CPU), see BENCHMARKS.md.
    pub audio_ctx_margin: Option<usize>,
    /// Smallest encoder window used when shrinking (very short windows hurt accuracy).
    pub min_audio_ctx: usize,
    /// Above this no-speech probability the result is treated as silence.
    pub no_speech_threshold: f32,
    /// Text given to the decoder as previous context (Whisper's "initial prompt"):
    /// domain words in it (refund, invoice, webhook…) are recognised more reliably.
    pub initial_prompt: Option<String>,
}

impl Default for WhisperConfig {
    fn default() -> Self {
        Self {
            model: WhisperModel::default(),
            threads: 2,
            audio_ctx_margin: None,
            min_audio_ctx: 256,
            no_speech_threshold: 0.6,
            initial_prompt: None,
        }
    }
}

impl WhisperConfig {
    /// Encoder window (frames) for `samples` of audio, or 0 for the model default.
    pub fn audio_ctx_for(&self, samples: usize) -> usize {
        match self.audio_ctx_margin {
            None => 0,
            Some(margin) => {
                let frames = (samples * ENCODER_FRAMES_PER_SEC).div_ceil(SAMPLE_RATE);
                let ctx = (frames + margin).max(self.min_audio_ctx);
                if ctx >= 1500 {
                    0
                } else {
                    ctx
                }
            }
        }
    }
}

/// whisper.cpp's abort callback: `data` points at the decode's abort flag.
unsafe extern "C" fn abort_requested(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: `data` is `Arc::as_ptr` of the flag, alive for the whole decode.
    unsafe { (*(data as *const AtomicBool)).load(Ordering::Relaxed) }
}

/// The loaded Whisper model, shared by all streams.
pub struct WhisperEngine {
    ctx: WhisperContext,
    config: WhisperConfig,
}

impl std::fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("config", &self.config)
            .finish()
    }
}

impl WhisperEngine {
    /// Load a ggml model file.
    pub fn load(model: &Path, config: WhisperConfig) -> Result<Self, SpeechError> {
        if !model.is_file() {
            return Err(SpeechError::ModelMissing(format!(
                "{} is missing; {FETCH_HINT}",
                model.display()
            )));
        }
        whisper_rs::install_logging_hooks();
        let started = Instant::now();
        let path = model
            .to_str()
            .ok_or_else(|| SpeechError::Model("model path is not UTF-8".into()))?;
        let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| SpeechError::Model(format!("loading {path}: {e}")))?;
        tracing::info!(
            model = path,
            load_ms = started.elapsed().as_millis() as u64,
            "whisper model loaded"
        );
        Ok(Self { ctx, config })
    }

    /// Convert the cached CT2 weights of `config.model` if needed ([`ensure_ggml`]) and
    /// load them.
    pub fn from_cache(cache_root: &Path, config: WhisperConfig) -> Result<Self, SpeechError> {
        let path = ensure_ggml(cache_root, config.model)?;
        Self::load(&path, config)
    }

    /// Decoding options in use.
    pub fn config(&self) -> &WhisperConfig {
        &self.config
    }

    /// Decode one second of faint noise once, so the first caller's turn does not pay
    /// for paging in the weights and sizing the compute buffers (seen as 10–20 s on a
    /// busy machine). Returns how long it took.
    pub fn warm_up(&self) -> Result<std::time::Duration, SpeechError> {
        let started = Instant::now();
        let mut state = self.new_state()?;
        let noise: Vec<f32> = (0..SAMPLE_RATE)
            .map(|i| ((i as f32) * 0.37).sin() * 0.001)
            .collect();
        self.transcribe(&mut state, &noise)?;
        let took = started.elapsed();
        tracing::info!(ms = took.as_millis() as u64, "whisper warmed up");
        Ok(took)
    }

    /// Fresh decoder state (one per stream).
    pub fn new_state(&self) -> Result<WhisperState, SpeechError> {
        self.ctx
            .create_state()
            .map_err(|e| SpeechError::Model(format!("whisper state: {e}")))
    }

    /// Transcribe one utterance of 16 kHz mono PCM (blocking; run on the blocking pool).
    pub fn transcribe(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
    ) -> Result<Transcript, SpeechError> {
        self.decode(state, pcm, None)
    }

    /// [`WhisperEngine::transcribe`] that whisper.cpp abandons (an error) soon after
    /// `abort` is set: it checks between encoder and decoder steps.
    pub fn transcribe_abortable(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        abort: &Arc<AtomicBool>,
    ) -> Result<Transcript, SpeechError> {
        self.decode(state, pcm, Some(abort.clone()))
    }

    /// A turn longer than Whisper's 30 s window is decoded in windows of at most
    /// [`MAX_WINDOW_SAMPLES`], each cut at the quietest 100 ms of its last
    /// [`CUT_SEARCH_SAMPLES`] (a pause between words, not mid-word); the texts are
    /// joined and the confidence is the mean of the windows with words, weighted by
    /// length.
    fn decode(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        abort: Option<Arc<AtomicBool>>,
    ) -> Result<Transcript, SpeechError> {
        if pcm.len() <= MAX_WINDOW_SAMPLES {
            return self.decode_window(state, pcm, abort);
        }
        let (mut text, mut weighted, mut spoken, mut rest) = (String::new(), 0.0f32, 0usize, pcm);
        while !rest.is_empty() {
            let cut = window_cut(rest);
            let part = self.decode_window(state, &rest[..cut], abort.clone())?;
            if !part.text.is_empty() {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&part.text);
                weighted += part.confidence * cut as f32;
                spoken += cut;
            }
            rest = &rest[cut..];
        }
        Ok(Transcript {
            // Windows without words (a long silence) do not lower the confidence.
            confidence: (weighted / spoken.max(1) as f32).clamp(0.0, 1.0),
            text,
        })
    }

    fn decode_window(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        abort: Option<Arc<AtomicBool>>,
    ) -> Result<Transcript, SpeechError> {
        let started = Instant::now();
        // whisper.cpp needs at least ~1 s of input to avoid edge effects; pad short clips.
        let min = SAMPLE_RATE;
        let padded;
        let audio = if pcm.len() < min {
            padded = [pcm, &vec![0.0; min - pcm.len()]].concat();
            &padded[..]
        } else {
            pcm
        };
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(self.config.threads.max(1) as i32);
        p.set_language(Some("en"));
        p.set_translate(false);
        p.set_no_context(true);
        p.set_no_timestamps(true);
        p.set_single_segment(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        p.set_temperature(0.0);
        p.set_temperature_inc(0.0);
        p.set_no_speech_thold(self.config.no_speech_threshold);
        let secs = audio.len() as f32 / SAMPLE_RATE as f32;
        p.set_max_tokens(((secs * 8.0) as i32 + 16).min(220));
        p.set_audio_ctx(self.config.audio_ctx_for(audio.len()) as i32);
        if let Some(prompt) = self.config.initial_prompt.as_deref() {
            p.set_initial_prompt(prompt);
        }
        if let Some(abort) = abort.as_ref() {
            // Not `set_abort_callback_safe`: in whisper-rs 0.16 its trampoline reads the
            // boxed `dyn FnMut` as the closure's own type. A plain C callback over the
            // flag instead; `abort` outlives `full` below.
            // SAFETY: the callback only reads the `AtomicBool` the pointer names, which
            // this function keeps alive until whisper.cpp has returned.
            unsafe {
                p.set_abort_callback(Some(abort_requested));
                p.set_abort_callback_user_data(Arc::as_ptr(abort) as *mut std::ffi::c_void);
            }
        }
        state
            .full(p, audio)
            .map_err(|e| SpeechError::Model(format!("whisper decode: {e}")))?;

        let eot = self.ctx.token_eot();
        let mut text = String::new();
        let mut no_speech: f32 = 0.0;
        let (mut psum, mut pcount) = (0.0f32, 0usize);
        for seg in state.as_iter() {
            no_speech = no_speech.max(seg.no_speech_probability());
            if let Ok(t) = seg.to_str_lossy() {
                text.push_str(&t);
            }
            for i in 0..seg.n_tokens() {
                if let Some(tok) = seg.get_token(i) {
                    if tok.token_id() < eot {
                        psum += tok.token_probability();
                        pcount += 1;
                    }
                }
            }
        }
        let mean_p = if pcount == 0 {
            0.0
        } else {
            psum / pcount as f32
        };
        let raw = text.trim().to_string();
        let cleaned = clean_transcript(&raw, no_speech, self.config.no_speech_threshold);
        let confidence = if cleaned.is_empty() {
            0.0
        } else {
            (mean_p * (1.0 - no_speech)).clamp(0.0, 1.0)
        };
        tracing::debug!(raw = %raw, text = %cleaned, no_speech, confidence,
            audio_ms = pcm.len() * 1000 / SAMPLE_RATE,
            decode_ms = started.elapsed().as_millis() as u64, "whisper decode");
        Ok(Transcript {
            text: cleaned,
            confidence,
        })
    }
}

/// Longest audio decoded as one window (28 s: inside Whisper's 30 s with room for
/// the encoder margin).
pub const MAX_WINDOW_SAMPLES: usize = 28 * SAMPLE_RATE;
/// Where a long turn may be cut: the last 8 s of each window.
const CUT_SEARCH_SAMPLES: usize = 8 * SAMPLE_RATE;

/// Length of the first window of `pcm`: all of it when it fits, else the middle of the
/// quietest 100 ms (least energy) in the last [`CUT_SEARCH_SAMPLES`] of the first
/// [`MAX_WINDOW_SAMPLES`].
pub fn window_cut(pcm: &[f32]) -> usize {
    if pcm.len() <= MAX_WINDOW_SAMPLES {
        return pcm.len();
    }
    let step = SAMPLE_RATE / 10;
    let mut best = (f32::MAX, MAX_WINDOW_SAMPLES);
    let mut start = MAX_WINDOW_SAMPLES - CUT_SEARCH_SAMPLES;
    while start + step <= MAX_WINDOW_SAMPLES {
        let energy: f32 = pcm[start..start + step].iter().map(|x| x * x).sum();
        if energy < best.0 {
            best = (energy, start + step / 2);
        }
        start += step;
    }
    best.1
}

/// Drop Whisper's inventions on non-speech: bracketed/parenthesised/starred
/// annotations ("[BLANK_AUDIO]", "(water splashing)", "*music*"), a lone "you",
/// punctuation-only output, and anything the model itself judges as no speech.
pub fn clean_transcript(text: &str, no_speech_prob: f32, threshold: f32) -> String {
    if no_speech_prob > threshold {
        return String::new();
    }
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut star = false;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '*' => star = !star,
            _ if depth == 0 && !star => out.push(c),
            _ => {}
        }
    }
    let mut out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for p in [" .", " ,", " ?", " !"] {
        out = out.replace(p, &p[1..]);
    }
    let bare: String = out
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let bare = bare.trim();
    if bare.is_empty() || bare == "you" {
        return String::new();
    }
    collapse_repeats(&out)
}

/// Undo Whisper's decoding loops: a sentence repeated back to back ("Please. Please.
/// Please.") is kept once, and a run of the same one-to-four-word phrase repeated
/// three or more times ("ten of clubs ten of clubs ten of clubs") is kept once.
pub fn collapse_repeats(text: &str) -> String {
    let key = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .collect::<String>()
            .to_lowercase()
    };
    // Sentences, keeping their end punctuation.
    let mut sentences: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '?' | '!') {
            sentences.push(text[start..=i].trim());
            start = i + 1;
        }
    }
    if start < text.len() && !text[start..].trim().is_empty() {
        sentences.push(text[start..].trim());
    }
    let mut kept: Vec<&str> = Vec::new();
    for s in sentences {
        if kept
            .last()
            .is_none_or(|last| key(last).trim() != key(s).trim())
        {
            kept.push(s);
        }
    }
    let joined = kept.join(" ");
    let words: Vec<&str> = joined.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for n in 1..=4 {
            let reps = (0..)
                .take_while(|r| {
                    let a = i + r * n;
                    a + n <= words.len() && (0..n).all(|k| key(words[a + k]) == key(words[i + k]))
                })
                .count();
            if reps >= 3 {
                out.extend_from_slice(&words[i..i + n]);
                i += reps * n;
                continue 'outer;
            }
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

impl Transcriber for WhisperEngine {
    type Session = WhisperState;

    fn session(&self) -> Result<WhisperState, SpeechError> {
        self.new_state()
    }

    fn transcribe(&self, s: &mut WhisperState, pcm: &[f32]) -> Result<Transcript, SpeechError> {
        WhisperEngine::transcribe(self, s, pcm)
    }

    fn transcribe_abortable(
        &self,
        s: &mut WhisperState,
        pcm: &[f32],
        abort: &Arc<AtomicBool>,
    ) -> Result<Transcript, SpeechError> {
        WhisperEngine::transcribe_abortable(self, s, pcm, abort)
    }
}

/// [`SpeechToText`] over the embedded Whisper model.
#[derive(Debug, Clone)]
pub struct WhisperStt {
    engine: Arc<WhisperEngine>,
    rolling: RollingConfig,
}

impl WhisperStt {
    /// Share `engine` across calls; `rolling` sets the partial-result cadence.
    pub fn new(engine: Arc<WhisperEngine>, rolling: RollingConfig) -> Self {
        Self { engine, rolling }
    }

    /// Load from the model cache with default settings.
    pub fn from_cache(cache_root: &Path) -> Result<Self, SpeechError> {
        let engine = WhisperEngine::from_cache(cache_root, WhisperConfig::default())?;
        Ok(Self::new(Arc::new(engine), RollingConfig::default()))
    }

    /// The shared engine (for benchmarks and warm-up).
    pub fn engine(&self) -> &Arc<WhisperEngine> {
        &self.engine
    }
}

#[async_trait::async_trait]
impl SpeechToText for WhisperStt {
    fn name(&self) -> &str {
        "whisper"
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        stt_rolling::open(self.engine.clone(), self.rolling.clone()).await
    }
}

#[cfg(test)]
mod repeat_tests {
    use super::collapse_repeats;

    #[test]
    fn decoding_loops_are_collapsed() {
        assert_eq!(
            collapse_repeats(
                "Okay, thanks, that's all, goodbye. Okay, thanks, that's all, goodbye. Okay"
            ),
            "Okay, thanks, that's all, goodbye. Okay"
        );
        assert_eq!(
            collapse_repeats("Can you send it? Please. Please. Please. Please."),
            "Can you send it? Please."
        );
        assert_eq!(
            collapse_repeats("ten of clubs ten of clubs ten of clubs"),
            "ten of clubs"
        );
        assert_eq!(collapse_repeats("5 5 5 5 5"), "5");
        // Ordinary speech is untouched, including a word said twice.
        let plain = "I was charged twice, twice! On March 12. Yes.";
        assert_eq!(collapse_repeats(plain), plain);
        assert_eq!(collapse_repeats("four four one two"), "four four one two");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hallucinations_become_empty() {
        assert_eq!(clean_transcript(" you", 0.1, 0.6), "");
        assert_eq!(clean_transcript("You.", 0.1, 0.6), "");
        assert_eq!(clean_transcript("[BLANK_AUDIO]", 0.1, 0.6), "");
        assert_eq!(clean_transcript("(water splashing)", 0.1, 0.6), "");
        assert_eq!(clean_transcript("*music*", 0.1, 0.6), "");
        assert_eq!(clean_transcript(" ...", 0.1, 0.6), "");
        assert_eq!(clean_transcript("I want a refund.", 0.9, 0.6), "");
    }

    #[test]
    fn real_speech_is_kept() {
        assert_eq!(
            clean_transcript(" I want a refund (please).", 0.1, 0.6),
            "I want a refund."
        );
        assert_eq!(clean_transcript("Thank you.", 0.1, 0.6), "Thank you.");
        assert_eq!(clean_transcript("you there?", 0.1, 0.6), "you there?");
    }

    #[test]
    fn audio_ctx_tracks_audio_length() {
        let c = WhisperConfig {
            audio_ctx_margin: Some(64),
            ..WhisperConfig::default()
        };
        assert_eq!(c.audio_ctx_for(16_000), 256); // floor
        assert_eq!(c.audio_ctx_for(16_000 * 8), 400 + 64);
        assert_eq!(c.audio_ctx_for(16_000 * 30), 0); // full window
        let full = WhisperConfig {
            audio_ctx_margin: None,
            ..c
        };
        assert_eq!(full.audio_ctx_for(16_000), 0);
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn a_turn_that_fits_is_one_window() {
        assert_eq!(window_cut(&vec![0.1; 10 * SAMPLE_RATE]), 10 * SAMPLE_RATE);
        assert_eq!(
            window_cut(&vec![0.1; MAX_WINDOW_SAMPLES]),
            MAX_WINDOW_SAMPLES
        );
    }

    #[test]
    fn a_long_turn_is_cut_in_its_quietest_pause_before_the_window_ends() {
        let mut pcm = vec![0.2f32; 35 * SAMPLE_RATE];
        // A pause of 300 ms at 24.0 s, and a fainter stretch at 12 s (too early to use).
        let pause = 24 * SAMPLE_RATE;
        pcm[pause..pause + 3 * SAMPLE_RATE / 10].fill(0.0);
        pcm[12 * SAMPLE_RATE..13 * SAMPLE_RATE].fill(0.0);
        let cut = window_cut(&pcm);
        assert!(
            cut > pause && cut < pause + 3 * SAMPLE_RATE / 10,
            "cut at {cut}, pause at {pause}"
        );
        // No pause at all: still within the window.
        let cut = window_cut(&vec![0.2; 40 * SAMPLE_RATE]);
        assert!(cut <= MAX_WINDOW_SAMPLES && cut >= MAX_WINDOW_SAMPLES - CUT_SEARCH_SAMPLES);
    }
}
