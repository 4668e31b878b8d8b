//! Start-up assembly: turns a [`Config`] into a running server's state (store,
//! metrics, providers, agent runtime). Shared by `switchboard serve`, the replay tool
//! and the tests, so they run exactly what production runs.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::audio::wav::{read_wav, Pcm};
use crate::call::{CallSettings, Transfer, VoiceStack};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::server::{AppState, Readiness};
use crate::speech::canned::CannedTts;
use crate::store::{Store, StoreError};
use crate::telephony::rest::TwilioRest;
use crate::telephony::Limits;

/// Errors assembling the application.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("store {path}: {source}")]
    Store { path: String, source: StoreError },
    #[error("greeting {path}: {message}")]
    Greeting { path: String, message: String },
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("twilio client: {0}")]
    Twilio(String),
    #[error("{0}")]
    Provider(String),
}

/// Open the store named by the configuration.
pub fn open_store(config: &Config) -> Result<Store, AppError> {
    Store::open(&config.store.path).map_err(|source| AppError::Store {
        path: config.store.path.display().to_string(),
        source,
    })
}

/// Build the server state from configuration, loading the providers it names before
/// returning (tests, the replay tool). `serve` uses [`state_without_voice`] and
/// [`load_voice`] instead, so it can answer `/healthz` and `/readyz` while loading.
pub fn build_state(config: &Config, shutdown: CancellationToken) -> Result<AppState, AppError> {
    let state = state_without_voice(config, shutdown)?;
    let voice = crate::providers::voice_stack(config, &state.store)?;
    install_voice(config, &state, voice)?;
    Ok(state)
}

/// Build the server state around an already chosen voice stack (tests, benchmarks).
pub fn assemble(
    config: &Config,
    store: Store,
    voice: VoiceStack,
    shutdown: CancellationToken,
) -> Result<AppState, AppError> {
    let state = state_with_store(config, store, shutdown)?;
    install_voice(config, &state, voice)?;
    Ok(state)
}

/// Load the configured providers into a running server (fetching model files first
/// when allowed); `/readyz` turns 200 when done.
pub async fn load_voice(config: Config, state: AppState) -> Result<(), AppError> {
    state.readiness.set_waiting("loading models and providers");
    let store = state.store.clone();
    let cfg = config.clone();
    let voice = tokio::task::spawn_blocking(move || crate::providers::voice_stack(&cfg, &store))
        .await
        .map_err(|e| AppError::Provider(format!("provider loading panicked: {e}")))??;
    install_voice(&config, &state, voice)
}

fn install_voice(config: &Config, state: &AppState, mut voice: VoiceStack) -> Result<(), AppError> {
    if voice.transfer.is_none() {
        voice.transfer = transfer(config)?;
    }
    state.set_voice(voice);
    Ok(())
}

/// The server state with no providers yet (`/media` answers 503 until they load).
pub fn state_without_voice(
    config: &Config,
    shutdown: CancellationToken,
) -> Result<AppState, AppError> {
    state_with_store(config, open_store(config)?, shutdown)
}

fn state_with_store(
    config: &Config,
    store: Store,
    shutdown: CancellationToken,
) -> Result<AppState, AppError> {
    let settings = CallSettings {
        limits: Limits {
            max_frame_bytes: config.server.max_frame_bytes,
            max_media_payload_bytes: config.server.max_media_payload_bytes,
        },
        machine: config.call.machine(),
        max_errors: config.call.max_errors,
        recordings_dir: config
            .recordings
            .enabled
            .then(|| config.recordings.dir.clone()),
    };
    let twilio_auth_token = if config.twilio.validate_signatures {
        Some(env(&config.twilio.auth_token_env)?)
    } else {
        None
    };
    let readiness = Readiness::default();
    readiness.set_waiting("providers not loaded");
    Ok(AppState {
        store,
        metrics: Arc::new(Metrics::new()),
        settings: Arc::new(settings),
        voice: Arc::default(),
        public_url: config.server.public_url.clone(),
        max_frame_bytes: config.server.max_frame_bytes,
        calls_list_limit: config.server.calls_list_limit,
        twilio_auth_token,
        readiness,
        shutdown,
    })
}

fn env(name: &str) -> Result<String, AppError> {
    std::env::var(name).map_err(|_| AppError::MissingEnv(name.to_string()))
}

/// A live-transfer client when a transfer number is configured.
fn transfer(config: &Config) -> Result<Option<Transfer>, AppError> {
    let t = &config.twilio;
    if t.transfer_number.trim().is_empty() {
        return Ok(None);
    }
    let account = if t.account_sid.is_empty() {
        env("TWILIO_ACCOUNT_SID")?
    } else {
        t.account_sid.clone()
    };
    let token = env(&t.auth_token_env)?;
    let rest = TwilioRest::new(&t.api_base, &account, &token, Duration::from_secs(10))
        .map_err(|e| AppError::Twilio(e.to_string()))?;
    Ok(Some(Transfer {
        rest,
        number: t.transfer_number.clone(),
        public_url: config.server.public_url.clone(),
    }))
}

/// Foundation mode: no speech recognition or agents; the call plays the greeting
/// recording and records the caller.
pub fn greeting_only(config: &Config) -> Result<VoiceStack, AppError> {
    let (rate, phrases, spoken) = match load_greeting(config)? {
        Some((pcm, text)) => (
            pcm.rate,
            vec![(text.clone(), pcm.samples)],
            Some(("triage".to_string(), text)),
        ),
        None => (8000, vec![], None),
    };
    Ok(VoiceStack {
        vad: None,
        stt: None,
        tts: Arc::new(CannedTts::new(rate, phrases)),
        runtime: None,
        greeting: spoken,
        transfer: None,
    })
}

/// The greeting WAV, with the words it says (from a `.txt` beside it).
fn load_greeting(config: &Config) -> Result<Option<(Pcm, String)>, AppError> {
    let path = &config.call.greeting_wav;
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    let err = |message: String| AppError::Greeting {
        path: path.display().to_string(),
        message,
    };
    let pcm = read_wav(path).map_err(|e| err(e.to_string()))?;
    let text = std::fs::read_to_string(path.with_extension("txt")).unwrap_or_default();
    let text = match text.trim() {
        "" => "Hello.".to_string(),
        t => t.to_string(),
    };
    Ok(Some((pcm, text)))
}
