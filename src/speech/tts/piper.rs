//! Piper neural TTS through ONNX Runtime, streamed clause by clause.
//!
//! Text → (optional [speech normalisation](crate::speech::tts::normalize)) → clauses split at
//! `, . ! ? ; :` → IPA phonemes from `espeak-ng -q --ipa` run as a **subprocess**
//! (espeak-ng is GPL-3; we never link it) → the punctuation espeak drops is put back
//! → ids through the voice's `phoneme_id_map` as `^ _ (p _)* $` → the VITS graph
//! (`input` i64 `[1, N]`, `input_lengths` i64 `[1]`, `scales` f32 `[noise, length,
//! noise_w]`) → f32 audio at the voice's rate (22 050 Hz for "medium" voices).
//!
//! The session is loaded once; inference runs on the blocking pool. Each clause's
//! audio is sent as soon as it exists, so the caller hears the first clause while
//! the rest is synthesised. Dropping the stream cancels: the worker checks before
//! every clause and stops.
//!
//! First audio sooner: in the opening sentence of a reply
//! ([`TextToSpeech::synthesize_opening`]) a long first clause (at least twice
//! `first_chunk_words` words) is synthesised as two chunks, its first few words alone (split before a function
//! word where one is near, so the seam falls where a speaker may breathe) and then the
//! rest; the silence the voice puts around each chunk is trimmed at the seam. The
//! first chunk costs a fraction of the whole clause (Piper's time grows with the
//! phonemes), and the rest is ready long before the first has played.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use ort::session::Session;
use ort::value::Tensor;
use tokio::sync::mpsc;

use crate::speech::manifest::paths;
use crate::speech::models::ModelCache;
use crate::speech::onnx::{self, ort_err, SessionOptions};
use crate::speech::{SpeechError, TextToSpeech, TtsStream};

/// Settings for [`PiperTts`]. `None` scales take the voice config's values.
#[derive(Debug, Clone)]
pub struct PiperConfig {
    /// The voice's `.onnx` file.
    pub model: PathBuf,
    /// The voice's `.onnx.json` config (phoneme map, sample rate, espeak voice).
    pub config: PathBuf,
    /// espeak-ng executable (found on `PATH` by default).
    pub espeak_bin: String,
    pub intra_threads: usize,
    pub noise_scale: Option<f32>,
    /// > 1 speaks slower.
    pub length_scale: Option<f32>,
    pub noise_w: Option<f32>,
    /// Run [`crate::speech::tts::normalize::normalize`] on the input text first.
    pub normalize: bool,
    /// Linear gain applied to the model's output before clamping to `[-1, 1]`.
    pub gain: f32,
    /// A first clause of at least twice this many words is spoken as two chunks, the
    /// first of about this many words (see the module doc); 0 never splits.
    pub first_chunk_words: usize,
}

impl PiperConfig {
    /// The "joe" voice from the model cache.
    pub fn from_cache(cache: &ModelCache) -> Self {
        PiperConfig {
            model: cache.path(paths::PIPER_JOE_ONNX),
            config: cache.path(paths::PIPER_JOE_JSON),
            espeak_bin: "espeak-ng".into(),
            intra_threads: 1,
            noise_scale: None,
            length_scale: None,
            noise_w: None,
            normalize: true,
            gain: 1.0,
            first_chunk_words: 4,
        }
    }
}

#[derive(serde::Deserialize)]
struct VoiceJson {
    audio: VoiceAudio,
    #[serde(default)]
    espeak: Option<VoiceEspeak>,
    #[serde(default)]
    inference: Option<VoiceInference>,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(serde::Deserialize)]
struct VoiceAudio {
    sample_rate: u32,
}

#[derive(serde::Deserialize)]
struct VoiceEspeak {
    voice: String,
}

#[derive(serde::Deserialize)]
struct VoiceInference {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

struct Inner {
    session: Mutex<Session>,
    ids: HashMap<char, Vec<i64>>,
    sample_rate: u32,
    voice: String,
    scales: [f32; 3],
    espeak_bin: String,
    normalize: bool,
    gain: f32,
    first_chunk_words: usize,
    /// Clauses synthesised since load (observability and tests).
    clauses_done: AtomicUsize,
    /// Synthesis workers currently running.
    active: AtomicUsize,
}

/// The Piper voice; cheap to clone, one session shared by all calls.
#[derive(Clone)]
pub struct PiperTts {
    inner: Arc<Inner>,
}

/// A clause of text with the punctuation that ended it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub text: String,
    pub punct: Option<char>,
}

/// Split at `, . ! ? ; :` when followed by whitespace or the end of the text (so
/// "4.50" or "10:30" stay whole). Empty clauses are dropped.
pub fn split_clauses(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let is_mark = |c: char| matches!(c, ',' | '.' | '!' | '?' | ';' | ':');
    while let Some(c) = chars.next() {
        if !is_mark(c) {
            cur.push(c);
            continue;
        }
        // a run like "?!" or "..." counts as one mark (the first)
        let mut run = String::from(c);
        while let Some(&n) = chars.peek().filter(|n| is_mark(**n)) {
            run.push(n);
            chars.next();
        }
        if chars.peek().is_none_or(|n| n.is_whitespace()) {
            let t = cur.trim();
            if t.chars().any(|ch| ch.is_alphanumeric()) {
                out.push(Clause {
                    text: t.to_string(),
                    punct: Some(c),
                });
            }
            cur.clear();
        } else {
            cur.push_str(&run);
        }
    }
    let t = cur.trim();
    if t.chars().any(|ch| ch.is_alphanumeric()) {
        out.push(Clause {
            text: t.to_string(),
            punct: None,
        });
    }
    out
}

/// Words before which a spoken phrase often starts (a seam there sounds natural).
const PHRASE_STARTS: &[&str] = &[
    "to", "for", "and", "but", "or", "so", "with", "on", "in", "at", "about", "because", "that",
    "if", "when", "while", "from", "which", "before", "after", "until", "since", "as", "by",
    "into",
];

/// Split a long first clause into a short head (about `words` words, no punctuation)
/// and the rest; other clauses are returned as they are.
pub fn split_first_clause(mut clauses: Vec<Clause>, words: usize) -> Vec<Clause> {
    let Some(first) = clauses.first() else {
        return clauses;
    };
    let ws: Vec<&str> = first.text.split_whitespace().collect();
    if words == 0 || ws.len() < 2 * words {
        return clauses;
    }
    // The nearest phrase start within a word of the target, else the target itself.
    let at = [words, words + 1, words - 1]
        .into_iter()
        .filter(|&i| i >= 2 && i < ws.len() - 2)
        .find(|&i| {
            let w = ws[i]
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            PHRASE_STARTS.contains(&w.as_str())
        })
        .unwrap_or(words);
    let head = Clause {
        text: ws[..at].join(" "),
        punct: None,
    };
    let tail = Clause {
        text: ws[at..].join(" "),
        punct: first.punct,
    };
    clauses.splice(0..1, [head, tail]);
    clauses
}

/// Drop near-silence (below about -50 dBFS) from the end (`end`) or the start of
/// `audio`, keeping `keep` samples of it.
fn trim_silence(audio: &mut Vec<f32>, end: bool, keep: usize) {
    const QUIET: f32 = 0.003;
    if end {
        let last = audio
            .iter()
            .rposition(|s| s.abs() > QUIET)
            .map_or(0, |i| i + 1);
        audio.truncate((last + keep).min(audio.len()));
    } else {
        let first = audio
            .iter()
            .position(|s| s.abs() > QUIET)
            .unwrap_or(audio.len());
        audio.drain(..first.saturating_sub(keep));
    }
}

impl PiperTts {
    /// Load the voice from the model cache (ONNX Runtime from the cache too).
    pub fn from_cache(cache: &ModelCache) -> Result<Self, SpeechError> {
        Self::from_cache_with(cache, &PiperConfig::from_cache(cache))
    }

    /// Load the voice `cfg` names with ONNX Runtime from the model cache.
    pub fn from_cache_with(cache: &ModelCache, cfg: &PiperConfig) -> Result<Self, SpeechError> {
        let env = onnx::environment(cache)?;
        Self::load(&env, cfg)
    }

    /// Load a voice. Takes 1–2 s: do it once at start-up.
    pub fn load(
        env: &ort::environment::Environment,
        cfg: &PiperConfig,
    ) -> Result<Self, SpeechError> {
        crate::speech::tts::normalize::warm_up();
        let text = read_required(&cfg.config)?;
        let voice: VoiceJson = serde_json::from_str(&text)
            .map_err(|e| SpeechError::Model(format!("{}: {e}", cfg.config.display())))?;
        let mut ids = HashMap::new();
        for (k, v) in voice.phoneme_id_map {
            let mut it = k.chars();
            if let (Some(c), None) = (it.next(), it.next()) {
                ids.insert(c, v);
            }
        }
        for needed in ['^', '_', '$'] {
            if !ids.contains_key(&needed) {
                return Err(SpeechError::Model(format!(
                    "voice has no id for {needed:?}"
                )));
            }
        }
        let inf = voice.inference.unwrap_or(VoiceInference {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        });
        let session = onnx::load_session(
            env,
            &cfg.model,
            SessionOptions {
                intra_threads: cfg.intra_threads,
            },
        )?;
        Ok(PiperTts {
            inner: Arc::new(Inner {
                session: Mutex::new(session),
                ids,
                sample_rate: voice.audio.sample_rate,
                voice: voice
                    .espeak
                    .map(|e| e.voice)
                    .unwrap_or_else(|| "en-us".into()),
                scales: [
                    cfg.noise_scale.unwrap_or(inf.noise_scale),
                    cfg.length_scale.unwrap_or(inf.length_scale),
                    cfg.noise_w.unwrap_or(inf.noise_w),
                ],
                espeak_bin: cfg.espeak_bin.clone(),
                normalize: cfg.normalize,
                gain: cfg.gain,
                first_chunk_words: cfg.first_chunk_words,
                clauses_done: AtomicUsize::new(0),
                active: AtomicUsize::new(0),
            }),
        })
    }

    /// Clauses synthesised since load.
    pub fn clauses_synthesized(&self) -> usize {
        self.inner.clauses_done.load(Ordering::SeqCst)
    }

    /// Synthesis workers still running (0 once every stream finished or was dropped).
    pub fn active_streams(&self) -> usize {
        self.inner.active.load(Ordering::SeqCst)
    }

    /// IPA for one clause (espeak-ng subprocess) with its punctuation re-attached.
    pub async fn phonemize(&self, clause: &Clause) -> Result<String, SpeechError> {
        self.inner.phonemize(clause).await
    }

    /// Model ids for a phoneme string: `^ _ (p _)* $`; unknown symbols are skipped.
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        self.inner.phoneme_ids(phonemes)
    }

    /// Synthesize all of `text` into one buffer (blocking on the async runtime's pool).
    pub async fn synthesize_all(&self, text: &str) -> Result<Vec<f32>, SpeechError> {
        let mut s = self.synthesize(text).await?;
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend(chunk?);
        }
        Ok(out)
    }
}

fn read_required(p: &Path) -> Result<String, SpeechError> {
    std::fs::read_to_string(p).map_err(|e| {
        SpeechError::ModelMissing(format!(
            "{}: {e}; run `switchboard models fetch`",
            p.display()
        ))
    })
}

impl Inner {
    async fn phonemize(&self, clause: &Clause) -> Result<String, SpeechError> {
        let out = tokio::process::Command::new(&self.espeak_bin)
            .args(["-q", "--ipa", "-v", &self.voice, "--", &clause.text])
            .kill_on_drop(true)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| {
                SpeechError::Model(format!(
                    "running {}: {e} (install espeak-ng)",
                    self.espeak_bin
                ))
            })?;
        if !out.status.success() {
            return Err(SpeechError::Model(format!(
                "{} failed: {}",
                self.espeak_bin,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let raw = String::from_utf8_lossy(&out.stdout);
        // espeak marks language switches as "(en)"; drop them, join its clause lines.
        let mut ipa = String::new();
        let mut depth = 0;
        for c in raw.chars() {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                _ if depth > 0 => {}
                '\n' | '\r' | '\t' => ipa.push(' '),
                _ => ipa.push(c),
            }
        }
        let mut ipa = ipa.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(p) = clause.punct {
            ipa.push(p);
        }
        Ok(ipa)
    }

    fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        let pad = &self.ids[&'_'];
        let mut ids = self.ids[&'^'].clone();
        ids.extend_from_slice(pad);
        for c in phonemes.chars() {
            if let Some(v) = self.ids.get(&c) {
                ids.extend_from_slice(v);
                ids.extend_from_slice(pad);
            }
        }
        ids.extend_from_slice(&self.ids[&'$']);
        ids
    }

    fn infer(&self, ids: Vec<i64>) -> Result<Vec<f32>, SpeechError> {
        let e = ort_err("piper");
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids)).map_err(&e)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(&e)?;
        let scales = Tensor::from_array(([3usize], self.scales.to_vec())).map_err(&e)?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| SpeechError::Model("piper session lock poisoned".into()))?;
        let outputs = session
            .run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
            .map_err(&e)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(&e)?;
        let g = self.gain;
        Ok(audio.iter().map(|s| (s * g).clamp(-1.0, 1.0)).collect())
    }

    async fn synth_clause(self: &Arc<Self>, clause: &Clause) -> Result<Vec<f32>, SpeechError> {
        let ipa = self.phonemize(clause).await?;
        let ids = self.phoneme_ids(&ipa);
        let me = self.clone();
        let audio = tokio::task::spawn_blocking(move || me.infer(ids))
            .await
            .map_err(|e| SpeechError::Model(format!("piper task: {e}")))??;
        self.clauses_done.fetch_add(1, Ordering::SeqCst);
        Ok(audio)
    }
}

struct ActiveGuard(Arc<Inner>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl TextToSpeech for PiperTts {
    fn name(&self) -> &str {
        "piper"
    }

    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        self.stream(text, 0)
    }

    async fn synthesize_opening(&self, text: &str) -> Result<TtsStream, SpeechError> {
        self.stream(text, self.inner.first_chunk_words)
    }
}

impl PiperTts {
    /// Synthesise `text` clause by clause, a long first clause split at about
    /// `first_chunk` words (0: never).
    fn stream(&self, text: &str, first_chunk: usize) -> Result<TtsStream, SpeechError> {
        let text = if self.inner.normalize {
            crate::speech::tts::normalize::normalize(text)
        } else {
            text.to_string()
        };
        let clauses = split_first_clause(split_clauses(&text), first_chunk);
        // A split first clause: the seam between its two chunks.
        let seam = clauses.first().is_some_and(|c| c.punct.is_none()) && clauses.len() > 1;
        let (tx, rx) = mpsc::channel::<Result<Vec<f32>, SpeechError>>(2);
        let inner = self.inner.clone();
        inner.active.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let _guard = ActiveGuard(inner.clone());
            // 20 ms of the voice's own silence is kept on each side of the seam.
            let keep = inner.sample_rate as usize / 50;
            for (i, clause) in clauses.into_iter().enumerate() {
                if tx.is_closed() {
                    tracing::debug!("piper stream dropped; synthesis cancelled");
                    return;
                }
                let started = std::time::Instant::now();
                let mut res = inner.synth_clause(&clause).await;
                if let (true, Ok(audio)) = (seam && i < 2, res.as_mut()) {
                    trim_silence(audio, i == 0, keep);
                }
                tracing::trace!(ms = started.elapsed().as_millis() as u64, clause = %clause.text, "piper clause");
                let failed = res.is_err();
                if tx.send(res).await.is_err() || failed {
                    return;
                }
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
#[path = "piper_tests.rs"]
mod tests;
