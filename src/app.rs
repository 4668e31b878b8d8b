//! Start-up assembly: turns a [`Config`] into a running server's state (store,
//! metrics, providers, agent runtime). Shared by `switchboard serve`, the replay tool
//! and the tests, so they run exactly what production runs.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::call::identity::StreamAuth;
use crate::call::transfer::TwilioRest;
use crate::call::{CallSettings, Transfer, VoiceStack};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::redact::Redactor;
use crate::server::admission::Admission;
use crate::server::security::Security;
use crate::server::{AppState, Readiness};
use crate::store::{Store, StoreError};
use crate::telephony::stream_token::StreamTokens;
use crate::telephony::Limits;

/// Errors assembling the application.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("store {path}: {source}")]
    Store { path: String, source: StoreError },
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("twilio client: {0}")]
    Twilio(String),
    /// A provider (VAD, STT, TTS, agents, the greeting) could not be built.
    #[error(transparent)]
    Provider(#[from] crate::providers::ProviderError),
    /// Production mode without what it needs to be safe.
    #[error("{0}")]
    Security(String),
    #[error("[privacy] {0}")]
    Privacy(#[from] crate::redact::PatternError),
    #[error("{0}")]
    Telemetry(String),
}

/// Open the store named by the configuration.
pub fn open_store(config: &Config) -> Result<Store, AppError> {
    Store::from_config(&config.store).map_err(|source| AppError::Store {
        path: match config.store.database_url.trim() {
            "" => config.store.path.display().to_string(),
            url => crate::store::masked_url(url),
        },
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
        .map_err(|e| {
            AppError::Provider(crate::providers::ProviderError::Provider(format!(
                "provider loading panicked: {e}"
            )))
        })??;
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
    crate::redact::install(Redactor::new(&config.privacy.mask_patterns)?);
    let security = security(config)?;
    let stream_tokens = StreamTokens::new(
        stream_secret(config, security.twilio_auth_token.as_deref()),
        config.server.stream_token_ttl_s,
    );
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
        auth: StreamAuth {
            tokens: stream_tokens.clone(),
            require_token: security.enforcing,
        },
        start_timeout: Duration::from_millis(config.server.start_timeout_ms),
        closing_line: config.server.closing_line.clone(),
    };
    let readiness = Readiness::default();
    readiness.set_waiting("providers not loaded");
    Ok(AppState {
        store,
        metrics: Arc::new(Metrics::new()),
        settings: Arc::new(settings),
        voice: Arc::default(),
        security: Arc::new(security),
        stream_tokens,
        admission: Admission::new(
            config.server.max_calls,
            config.server.max_pending_per_client,
            trusted_proxies(config)?,
        ),
        max_frame_bytes: config.server.max_frame_bytes,
        calls_list_limit: config.server.calls_list_limit,
        readiness,
        shutdown,
        drain: Default::default(),
        telemetry: crate::telemetry::Telemetry::from_config(&config.telemetry)
            .map_err(|e| AppError::Telemetry(e.to_string()))?,
    })
}

/// The mode and its credentials. Production mode (`public_url` set) fails without the
/// Twilio auth token unless `[server] allow_unsigned_webhooks` opts out.
pub fn security(config: &Config) -> Result<Security, AppError> {
    let enforcing = config.server.enforcing();
    let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let twilio_token = non_empty(&config.twilio.auth_token_env);
    let sign =
        (enforcing && !config.server.allow_unsigned_webhooks) || config.twilio.validate_signatures;
    if sign && twilio_token.is_none() {
        return Err(AppError::Security(format!(
            "[server] public_url is set, so Twilio webhooks and media streams must be signed: \
             set the {} environment variable to your Twilio auth token (or, only behind a \
             gateway that verifies Twilio's signatures itself, set [server] \
             allow_unsigned_webhooks = true)",
            config.twilio.auth_token_env
        )));
    }
    let admin_token = non_empty(&config.server.admin_token_env);
    if enforcing {
        if admin_token.is_none() {
            tracing::warn!(
                "production mode: {} is not set, so /calls and every operator route refuse all requests",
                config.server.admin_token_env
            );
        }
        if !sign {
            tracing::warn!(
                "production mode with allow_unsigned_webhooks: Twilio signatures are not checked"
            );
        }
    } else {
        tracing::warn!(
            "development mode (no [server] public_url): Twilio signatures and stream tokens \
             are not required and operator routes answer loopback clients; set public_url \
             before connecting a real number"
        );
    }
    Ok(Security {
        enforcing,
        public_url: config
            .server
            .public_url
            .trim()
            .trim_end_matches('/')
            .to_string(),
        twilio_auth_token: sign.then_some(twilio_token).flatten(),
        admin_token,
    })
}

/// `[server] trusted_proxies` parsed (a bare address is a /32 or /128).
fn trusted_proxies(config: &Config) -> Result<Vec<ipnet::IpNet>, AppError> {
    config
        .server
        .trusted_proxies
        .iter()
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    AppError::Security(format!(
                        "[server] trusted_proxies: {p:?} is not an address or CIDR block"
                    ))
                })
        })
        .collect()
}

/// The stream-token secret: `$SWITCHBOARD_STREAM_SECRET` (name configurable), else
/// derived from the Twilio auth token (every replica with the same token agrees),
/// else random for this process.
fn stream_secret(config: &Config, twilio_token: Option<&str>) -> Vec<u8> {
    use hmac::{KeyInit as _, Mac as _};
    if let Ok(s) = std::env::var(&config.server.stream_secret_env) {
        if !s.is_empty() {
            return s.into_bytes();
        }
    }
    let token = twilio_token
        .map(str::to_string)
        .or_else(|| std::env::var(&config.twilio.auth_token_env).ok())
        .filter(|t| !t.is_empty());
    match token {
        Some(t) => {
            let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(t.as_bytes())
                .unwrap_or_else(|_| <hmac::Hmac<sha2::Sha256>>::new(&Default::default()));
            mac.update(b"switchboard stream tokens v1");
            mac.finalize().into_bytes().to_vec()
        }
        None => crate::server::random_hex(32).into_bytes(),
    }
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
