//! Start-up assembly: turns a [`Config`] into a running server's state (store,
//! metrics, greeting audio, providers). Shared by `switchboard serve` and the tests,
//! so they run exactly what production runs.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::audio;
use crate::call::{CallDeps, CallSettings};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::server::{AppState, Readiness};
use crate::store::{Store, StoreError};
use crate::telephony::Limits;

/// Errors assembling the application.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("store {path}: {source}")]
    Store { path: String, source: StoreError },
    #[error("greeting {path}: {message}")]
    Greeting { path: String, message: String },
    #[error("twilio signature validation is on but ${0} is not set")]
    MissingAuthToken(String),
}

/// Build the server state from configuration.
pub fn build_state(config: &Config, shutdown: CancellationToken) -> Result<AppState, AppError> {
    let store = Store::open(&config.store.path).map_err(|source| AppError::Store {
        path: config.store.path.display().to_string(),
        source,
    })?;
    let greeting = load_greeting(config)?;
    let settings = CallSettings {
        limits: Limits {
            max_frame_bytes: config.server.max_frame_bytes,
            max_media_payload_bytes: config.server.max_media_payload_bytes,
        },
        frames_per_mark: config.call.frames_per_mark,
        playout_lead_frames: config.call.playout_lead_frames,
        max_errors: config.call.max_errors,
        recordings_dir: config
            .recordings
            .enabled
            .then(|| config.recordings.dir.clone()),
        greeting,
    };
    let twilio_auth_token = if config.twilio.validate_signatures {
        let var = &config.twilio.auth_token_env;
        Some(std::env::var(var).map_err(|_| AppError::MissingAuthToken(var.clone()))?)
    } else {
        None
    };
    let readiness = Readiness::default();
    readiness.set_ready();
    Ok(AppState {
        deps: CallDeps {
            store,
            metrics: Arc::new(Metrics::new()),
            settings: Arc::new(settings),
        },
        public_url: config.server.public_url.clone(),
        max_frame_bytes: config.server.max_frame_bytes,
        calls_list_limit: config.server.calls_list_limit,
        twilio_auth_token,
        readiness,
        shutdown,
    })
}

/// The greeting WAV as 8 kHz μ-law, with the words it says (from a `.txt` beside it).
fn load_greeting(config: &Config) -> Result<Option<(Vec<u8>, String)>, AppError> {
    let path = &config.call.greeting_wav;
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    let err = |message: String| AppError::Greeting {
        path: path.display().to_string(),
        message,
    };
    let pcm = audio::wav::read_wav(path).map_err(|e| err(e.to_string()))?;
    let text = std::fs::read_to_string(path.with_extension("txt")).unwrap_or_default();
    let mulaw = audio::wav::to_phone(&pcm).map_err(|e| err(e.to_string()))?;
    Ok(Some((mulaw, text.trim().to_string())))
}
