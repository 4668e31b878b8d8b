//! Configuration: a TOML file (see `switchboard.example.toml`, which documents every
//! option) overlaid with `SWITCHBOARD_*` environment variables.
//!
//! An environment variable names a path into the TOML tree with `__` between
//! levels: `SWITCHBOARD_SERVER__LISTEN=0.0.0.0:9000` sets `[server] listen`,
//! `SWITCHBOARD_SPEECH__STT=deepgram` sets `[speech] stt`. Values are parsed as TOML
//! scalars when they look like one (`true`, `42`, `0.5`) and taken as strings
//! otherwise. Every section and field has a default, so an empty file is valid.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod overlay;

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "SWITCHBOARD_";

/// Errors reading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub recordings: RecordingsConfig,
    pub call: CallConfig,
    pub models: ModelsConfig,
    pub speech: SpeechConfig,
    pub agents: AgentsConfig,
    pub twilio: TwilioConfig,
    pub privacy: PrivacyConfig,
    pub telemetry: TelemetryConfig,
}

/// `[telemetry]`: OpenTelemetry export of call and turn spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/HTTP collector, for example `http://otel-collector:4318` (`/v1/traces` is
    /// added unless the URL already ends with it); empty = no export.
    pub otlp_endpoint: String,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Give up on one export request after this many seconds.
    pub timeout_s: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: String::new(),
            service_name: "switchboard".into(),
            timeout_s: 10,
        }
    }
}

/// `[server]`: the HTTP/websocket listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; unset = `127.0.0.1:8080` in development mode (nothing is
    /// enforced, so only this machine and its tunnels reach it), `0.0.0.0:8080` in
    /// production mode. See [`ServerConfig::listen_addr`].
    pub listen: Option<SocketAddr>,
    /// Public base URL callers' carrier reaches us at (e.g. `https://abc.ngrok.app`).
    /// `/twiml` derives the `wss://…/media` URL from it; when empty, the request's
    /// `Host` header is used.
    pub public_url: String,
    /// Largest websocket frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Largest decoded media payload accepted per frame, in bytes.
    pub max_media_payload_bytes: usize,
    /// How many recent calls `GET /calls` lists.
    pub calls_list_limit: usize,
    /// With `public_url` set, start even without the Twilio auth token and accept
    /// unsigned Twilio webhooks and stream handshakes (only behind a gateway that
    /// verifies them itself). Stream tokens and operator authentication stay on.
    pub allow_unsigned_webhooks: bool,
    /// Environment variable holding the operator bearer token (`/calls`, recordings).
    pub admin_token_env: String,
    /// Environment variable holding the secret that signs stream tokens; unset = derived
    /// from the Twilio auth token (so replicas agree), else random per process.
    pub stream_secret_env: String,
    /// Lifetime of the stream token `/twiml` issues, seconds.
    pub stream_token_ttl_s: u64,
    /// A media socket that sends no valid `start` this long after opening is closed, ms
    /// (0 = never).
    pub start_timeout_ms: u64,
    /// Most calls served at once (sockets included before `start`); more are refused.
    pub max_calls: usize,
    /// Most media sockets one client address may hold open before a valid `start`.
    pub max_pending_per_client: usize,
    /// Proxies (addresses or CIDR blocks) in front of the server whose
    /// `X-Forwarded-For` names the real client, for the per-client cap.
    pub trusted_proxies: Vec<String>,
    /// On SIGTERM or SIGINT, live calls go on for at most this long (seconds) before
    /// each hears `closing_line` and is closed; new streams are refused at once.
    /// Keep Kubernetes' `terminationGracePeriodSeconds` above it (plus ~15 s).
    pub drain_timeout_s: u64,
    /// Said to each call still live when the drain time is up.
    pub closing_line: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: None,
            public_url: String::new(),
            max_frame_bytes: 64 * 1024,
            max_media_payload_bytes: 8000,
            calls_list_limit: 50,
            allow_unsigned_webhooks: false,
            admin_token_env: "ADMIN_API_TOKEN".into(),
            stream_secret_env: "SWITCHBOARD_STREAM_SECRET".into(),
            stream_token_ttl_s: 120,
            start_timeout_ms: 5000,
            max_calls: 64,
            max_pending_per_client: 8,
            trusted_proxies: Vec::new(),
            drain_timeout_s: 120,
            closing_line:
                "I'm sorry, I have to end our call now. Please call us back in a few minutes."
                    .into(),
        }
    }
}

impl ServerConfig {
    /// The address to bind: `listen`, else the mode's default.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            let ip = if self.enforcing() {
                [0, 0, 0, 0]
            } else {
                [127, 0, 0, 1]
            };
            SocketAddr::from((ip, 8080))
        })
    }

    /// Production mode: `public_url` is set, so signatures, stream tokens and operator
    /// authentication are enforced. Otherwise development mode.
    pub fn enforcing(&self) -> bool {
        !self.public_url.trim().is_empty()
    }
}

/// `[privacy]`: what is masked before anything leaves a call.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Regular expressions masked (all letters and digits but the last four) in logs,
    /// traces, stored transcripts, tool arguments and the `/calls` JSON, besides card
    /// numbers (13–19 digits passing Luhn), which are always masked.
    pub mask_patterns: Vec<String>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            // US social security numbers written with dashes.
            mask_patterns: vec![r"\b\d{3}-\d{2}-\d{4}\b".into()],
        }
    }
}

/// `[store]`: where call records and the demo customers live.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file (the embedded default), used when `database_url` is empty.
    pub path: PathBuf,
    /// `postgres://user:password@host:5432/db` (libpq URL or key=value form; TLS as
    /// `sslmode` says, `prefer` by default) keeps records and customers in PostgreSQL,
    /// shared by every replica; `sqlite://<path>` names a SQLite file; empty = `path`.
    /// Holds a password: set it from a secret (`SWITCHBOARD_STORE__DATABASE_URL`).
    pub database_url: String,
    /// Most pooled PostgreSQL connections one process opens (plus one that holds its
    /// liveness lock).
    pub max_connections: u32,
    /// PEM file of CA certificates the PostgreSQL server's certificate may chain to,
    /// besides the Mozilla roots (a private CA, a cloud provider's bundle); empty = none.
    pub ca_file: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/switchboard.sqlite"),
            database_url: String::new(),
            max_connections: 8,
            ca_file: PathBuf::new(),
        }
    }
}

/// Debug output never shows the database password.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("path", &self.path)
            .field(
                "database_url",
                &crate::store::masked_url(&self.database_url),
            )
            .field("max_connections", &self.max_connections)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `[recordings]`: caller-audio recordings (8 kHz mono WAV per call).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingsConfig {
    pub enabled: bool,
    pub dir: PathBuf,
    /// Delete recordings older than this many days (checked at start-up and hourly);
    /// 0 = keep them.
    pub retention_days: u64,
}

impl Default for RecordingsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("data/recordings"),
            retention_days: 0,
        }
    }
}

/// `[call]`: per-call behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallConfig {
    /// WAV played when a call starts while no speech stack is configured.
    pub greeting_wav: PathBuf,
    /// Audio is sent to the carrier in chunks of this many 20 ms frames, each followed
    /// by a `mark`, so the session always knows what the caller has heard.
    pub frames_per_mark: usize,
    /// Frames sent ahead of real time, to absorb network jitter (0 = strict pacing).
    pub playout_lead_frames: usize,
    /// A chunk whose `mark` has not come back this long after it should have finished
    /// playing counts as heard (carriers that never echo marks still reach "listening").
    pub mark_timeout_ms: u64,
    /// Close the call after this many protocol errors on it.
    pub max_errors: u64,
    /// VAD probability at or above which a frame is speech.
    pub vad_on: f32,
    /// VAD probability below which speech has stopped (hysteresis).
    pub vad_off: f32,
    /// Speech shorter than this is noise, not the caller starting to talk.
    pub min_speech_ms: u64,
    /// Caller silence that ends their turn.
    pub endpoint_silence_ms: u64,
    /// Silence that ends the turn when the words so far sound unfinished ("and", "my", "um").
    pub endpoint_silence_unfinished_ms: u64,
    /// Silence that ends the turn once the words up to the pause are transcribed and read
    /// as a complete request (semantic endpointing; at most `endpoint_silence_ms`).
    pub endpoint_silence_complete_ms: u64,
    /// Silence after which the recogniser starts the final decode speculatively (it then
    /// overlaps the endpoint wait); 0 = only at the end of the turn.
    pub speculate_after_ms: u64,
    /// Caller speech over the bot must last this long to interrupt it (a cough does not).
    pub barge_in_min_ms: u64,
    /// Audio from before speech onset sent to STT with the turn.
    pub preroll_ms: u64,
    /// Caller silence before a re-prompt.
    pub reprompt_after_ms: u64,
    /// Re-prompts on a silent line; the silent turn after the last one gets the agents'
    /// goodbye, heard in full before the hang-up (`[agents] max_silences` follows it).
    pub max_reprompts: u32,
    /// Wait after the last keypad digit before passing digits on (`#` sends at once).
    pub dtmf_timeout_ms: u64,
    /// A transcript not back this long after the caller stopped counts as nothing heard
    /// (the caller is asked again) instead of leaving the call waiting forever.
    pub stt_timeout_ms: u64,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            greeting_wav: PathBuf::from("audio-fixtures/greeting.wav"),
            frames_per_mark: 10,
            playout_lead_frames: 2,
            mark_timeout_ms: 3000,
            max_errors: 100,
            vad_on: 0.5,
            vad_off: 0.35,
            min_speech_ms: 60,
            endpoint_silence_ms: 500,
            endpoint_silence_unfinished_ms: 1200,
            endpoint_silence_complete_ms: 250,
            speculate_after_ms: 100,
            barge_in_min_ms: 160,
            preroll_ms: 200,
            reprompt_after_ms: 8000,
            max_reprompts: 2,
            dtmf_timeout_ms: 1500,
            stt_timeout_ms: 15_000,
        }
    }
}

impl CallConfig {
    /// The call state machine's settings.
    pub fn machine(&self) -> crate::call::MachineConfig {
        let ms = std::time::Duration::from_millis;
        crate::call::MachineConfig {
            vad_on: self.vad_on,
            vad_off: self.vad_off,
            min_speech: ms(self.min_speech_ms),
            endpoint_silence: ms(self.endpoint_silence_ms),
            endpoint_silence_unfinished: ms(self.endpoint_silence_unfinished_ms),
            endpoint_silence_complete: ms(self.endpoint_silence_complete_ms),
            speculate_after: ms(self.speculate_after_ms),
            barge_in_min: ms(self.barge_in_min_ms),
            preroll: ms(self.preroll_ms),
            reprompt_after: ms(self.reprompt_after_ms),
            max_reprompts: self.max_reprompts,
            dtmf_timeout: ms(self.dtmf_timeout_ms),
            stt_timeout: ms(self.stt_timeout_ms),
            frames_per_mark: self.frames_per_mark,
            playout_lead_frames: self.playout_lead_frames,
            mark_timeout: ms(self.mark_timeout_ms),
        }
    }
}

/// `[models]`: where model files are cached.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Cache directory; empty = `$SWITCHBOARD_MODELS_DIR`, `$XDG_CACHE_HOME/switchboard/models`
    /// or `~/.cache/switchboard/models`.
    pub dir: Option<PathBuf>,
    /// Download missing models at `serve` start-up.
    pub auto_fetch: Option<bool>,
}

/// `[speech]`: provider selection. Provider-specific tables are read by `speech`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SpeechConfig {
    /// `silero` | `energy`
    pub vad: String,
    /// `whisper` | `openai` | `deepgram` | `none`
    pub stt: String,
    /// `piper` | `openai` | `elevenlabs` | `none`
    pub tts: String,
    /// A recogniser that takes over when `stt` fails (same names; "" = none).
    pub stt_fallback: String,
    /// A voice that takes over when `tts` fails (same names; "" = none).
    pub tts_fallback: String,
    /// With `stt_fallback`: from the end of a turn to its transcript (ms); longer,
    /// and the fallback recognises the turn.
    pub stt_final_timeout_ms: u64,
    /// With `tts_fallback`: from a sentence to its first audio (ms); longer, and the
    /// fallback voice says it.
    pub tts_first_audio_timeout_ms: u64,
    /// Provider-specific settings (`[speech.whisper]`, `[speech.piper]`, …).
    #[serde(flatten)]
    pub providers: toml::Table,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        Self {
            vad: "silero".into(),
            stt: "whisper".into(),
            tts: "piper".into(),
            stt_fallback: String::new(),
            tts_fallback: String::new(),
            stt_final_timeout_ms: 1500,
            tts_first_audio_timeout_ms: 1000,
            providers: toml::Table::new(),
        }
    }
}

/// `[agents]`: the agent runtime.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AgentsConfig {
    /// Directory of prompt files (`persona.md` + one file per agent).
    pub prompts_dir: PathBuf,
    /// Runtime limits and thresholds (read by `agents`).
    #[serde(flatten)]
    pub runtime: toml::Table,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            prompts_dir: PathBuf::from("prompts"),
            runtime: toml::Table::new(),
        }
    }
}

/// `[twilio]`: REST credentials for transfers and request validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioConfig {
    /// REST API base URL (tests point it at a fake).
    pub api_base: String,
    /// Account SID; empty = `$TWILIO_ACCOUNT_SID`.
    pub account_sid: String,
    /// Name of the environment variable holding the auth token.
    pub auth_token_env: String,
    /// Number human escalations are dialled to (E.164); empty = no live transfer
    /// (the agent arranges a call back and opens a ticket instead).
    pub transfer_number: String,
    /// Reject `/twiml` requests whose `X-Twilio-Signature` does not verify.
    pub validate_signatures: bool,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            api_base: "https://api.twilio.com".into(),
            account_sid: String::new(),
            auth_token_env: "TWILIO_AUTH_TOKEN".into(),
            transfer_number: String::new(),
            validate_signatures: false,
        }
    }
}

impl Config {
    /// Load from an optional file, then apply `SWITCHBOARD_*` overrides from the process
    /// environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_path_buf(),
                source,
            })?,
            None => String::new(),
        };
        let origin = path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(defaults)".into());
        Self::from_parts(&text, &origin, std::env::vars())
    }

    /// Parse `text` and apply overrides from `env` (pairs of name and value).
    pub fn from_parts(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.into(),
            message,
        };
        let mut tree: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        overlay::apply_env(&mut tree, env).map_err(invalid)?;
        toml::Value::Table(tree)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
