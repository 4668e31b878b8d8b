//! The HTTP server: axum routes that connect the carrier to [`crate::call`].
//!
//! | route                 | what |
//! |-----------------------|------|
//! | `POST /twiml`         | TwiML telling Twilio to open a media stream to `/media` |
//! | `GET /media`          | the Media Streams websocket (one call per socket) |
//! | `GET /healthz`        | liveness |
//! | `GET /readyz`         | 200 only when models and providers are loaded and the server is not draining |
//! | `GET /calls`          | recent call records (operators) |
//! | `GET /calls/{callSid}`| one call record (agents, transcript, outcome, trace; operators) |
//! | `GET /metrics`        | Prometheus metrics (no personal data) |
//! | `/whisper/{callSid}`  | TwiML brief read to the person taking a transferred call (Twilio) |
//! | `GET /console…`, `GET /calls/{callSid}/recording.wav` | the operator console ([`console`]) |
//! | `GET /phone`, `GET /phone/ws` | the browser softphone ([`phone`]) |
//!
//! Who may call which route: [`security`]; how many media sockets are served:
//! [`admission`]; shutting down without dropping calls: [`drain`].

pub mod admission;
mod console;
pub mod drain;
mod media;
mod phone;
mod routes;
pub mod security;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::call::{CallDeps, CallSettings, VoiceStack};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::telephony::stream_token::StreamTokens;
use admission::Admission;
use security::Security;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<CallSettings>,
    /// The providers, once loaded (calls are refused until then).
    pub voice: Arc<OnceLock<Arc<VoiceStack>>>,
    /// Largest websocket message accepted at the transport level.
    pub max_frame_bytes: usize,
    pub calls_list_limit: usize,
    /// Signatures, operator authentication and the mode.
    pub security: Arc<Security>,
    /// Issues the stream tokens `/twiml` hands to Twilio.
    pub stream_tokens: StreamTokens,
    /// Caps on media sockets.
    pub admission: Admission,
    pub readiness: Readiness,
    /// Cancelled when the server shuts down; every call session watches it.
    pub shutdown: CancellationToken,
    /// Draining (no new calls) and the live call tasks.
    pub drain: drain::Drain,
    /// OTLP export of finished calls (off unless `[telemetry] otlp_endpoint`).
    pub telemetry: crate::telemetry::Telemetry,
}

impl AppState {
    /// What a new call needs, or `None` while the providers are still loading.
    pub fn call_deps(&self) -> Option<CallDeps> {
        Some(CallDeps {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            settings: self.settings.clone(),
            voice: self.voice.get()?.clone(),
            telemetry: self.telemetry.clone(),
        })
    }

    /// Install the loaded providers and report ready.
    pub fn set_voice(&self, voice: VoiceStack) {
        let _ = self.voice.set(Arc::new(voice));
        self.readiness.set_ready();
    }
}

/// Whether the server can take calls, and if not, what it is waiting for.
#[derive(Clone, Default)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    waiting_for: Arc<Mutex<String>>,
}

impl Readiness {
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
        if let Ok(mut w) = self.waiting_for.lock() {
            w.clear();
        }
    }

    pub fn set_waiting(&self, what: impl Into<String>) {
        self.ready.store(false, Ordering::SeqCst);
        if let Ok(mut w) = self.waiting_for.lock() {
            *w = what.into();
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn waiting_for(&self) -> String {
        self.waiting_for
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }
}

/// `n` random bytes from the operating system, hex-encoded (nonces, secrets).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the clock, still unique per call.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        buf = t.to_le_bytes().to_vec();
    }
    hex::encode(buf)
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/twiml", post(routes::twiml))
        .route("/media", get(media::upgrade))
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/calls", get(routes::list_calls))
        .route("/calls/{call_sid}", get(routes::get_call))
        .route("/calls/{call_sid}/recording.wav", get(console::recording))
        .route("/console", get(console::list_page))
        .route("/console/events", get(console::list_events))
        .route(
            "/console/login",
            get(console::login_form).post(console::login),
        )
        .route("/console/calls/{call_sid}", get(console::call_page))
        .route(
            "/console/calls/{call_sid}/events",
            get(console::call_events),
        )
        .route("/phone", get(phone::page))
        .route("/phone/worklet.js", get(phone::worklet))
        .route("/phone/ws", get(phone::upgrade))
        .route("/metrics", get(routes::metrics))
        .route(
            "/whisper/{call_sid}",
            get(routes::whisper).post(routes::whisper),
        )
        .with_state(state)
}

/// Serve until `state.shutdown` is cancelled; returns once in-flight calls have
/// finished their records.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    let drain = state.drain.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // 20 ms media frames must not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    // Hyper does not wait for upgraded sockets: once shut down, wait for the call
    // tasks to finish their records (bounded by the drain).
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.cancelled().await;
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(15), drain.calls_done()).await;
        })
        .await
}
