//! Process-wide metrics in Prometheus form, served at `GET /metrics`.
//!
//! One [`Metrics`] value is created at start-up and shared (by `Arc`) with every
//! call; tests create their own so they never see each other's counts.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

/// All metrics the server exports.
pub struct Metrics {
    registry: Registry,
    pub calls_started: IntCounter,
    pub calls_active: IntGauge,
    pub frames_in: IntCounter,
    pub frames_out: IntCounter,
    /// Protocol errors by kind (`json`, `invalid_base64`, `too_large`, …).
    pub protocol_errors: IntCounterVec,
    /// Unknown inbound event names (counted, then ignored).
    pub unknown_events: IntCounter,
    /// Per-turn latency stages in seconds, labelled by stage
    /// (`endpoint`, `stt_queue`, `stt_decode`, `stt_final`, `first_token`, `first_audio`,
    /// `first_frame`, `voice_to_voice`).
    pub turn_latency: HistogramVec,
    /// Caller speech onset → `clear` sent, in seconds.
    pub barge_in_latency: Histogram,
    /// Handoffs by `from`, `to` and trigger.
    pub handoffs: IntCounterVec,
    /// Requests an agent's fallback model served because the model before it failed,
    /// by agent, failed model, serving model and reason (`connect`, `timeout`,
    /// `status`, `malformed`, `breaker_open`).
    pub model_fallbacks: IntCounterVec,
    /// Requests and streams refused, by reason (`signature_invalid`, `token_forged`,
    /// `at_capacity`, `start_timeout`, `call_exists`, …). No personal data in labels.
    pub refused: IntCounterVec,
    /// Media frames that arrived before `start` (dropped).
    pub frames_before_start: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("switchboard".into()), None).expect("valid prefix");
        let latency_buckets = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0,
        ];
        let m = Self {
            calls_started: IntCounter::new("calls_started_total", "Media streams started")
                .expect("metric"),
            calls_active: IntGauge::new("calls_active", "Media streams in progress")
                .expect("metric"),
            frames_in: IntCounter::new("frames_in_total", "Inbound media frames").expect("metric"),
            frames_out: IntCounter::new("frames_out_total", "Outbound media frames")
                .expect("metric"),
            protocol_errors: IntCounterVec::new(
                Opts::new(
                    "protocol_errors_total",
                    "Malformed or out-of-order inbound messages",
                ),
                &["kind"],
            )
            .expect("metric"),
            unknown_events: IntCounter::new(
                "unknown_events_total",
                "Inbound events of unknown type",
            )
            .expect("metric"),
            turn_latency: HistogramVec::new(
                HistogramOpts::new(
                    "turn_latency_seconds",
                    "Latency from end of caller speech to each stage",
                )
                .buckets(latency_buckets.clone()),
                &["stage"],
            )
            .expect("metric"),
            barge_in_latency: Histogram::with_opts(
                HistogramOpts::new(
                    "barge_in_latency_seconds",
                    "Caller speech onset to clear sent",
                )
                .buckets(latency_buckets),
            )
            .expect("metric"),
            handoffs: IntCounterVec::new(
                Opts::new("handoffs_total", "Agent handoffs"),
                &["from", "to", "trigger"],
            )
            .expect("metric"),
            model_fallbacks: IntCounterVec::new(
                Opts::new(
                    "model_fallbacks_total",
                    "Chat requests served by a fallback model after the model before it failed",
                ),
                &["agent", "from", "to", "reason"],
            )
            .expect("metric"),
            refused: IntCounterVec::new(
                Opts::new("refused_total", "Requests and media streams refused"),
                &["reason"],
            )
            .expect("metric"),
            frames_before_start: IntCounter::new(
                "frames_before_start_total",
                "Media frames received before the stream's start (dropped)",
            )
            .expect("metric"),
            registry,
        };
        let r = &m.registry;
        for c in [
            Box::new(speech_fallbacks().clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.calls_started.clone()),
            Box::new(m.calls_active.clone()),
            Box::new(m.frames_in.clone()),
            Box::new(m.frames_out.clone()),
            Box::new(m.protocol_errors.clone()),
            Box::new(m.unknown_events.clone()),
            Box::new(m.turn_latency.clone()),
            Box::new(m.barge_in_latency.clone()),
            Box::new(m.handoffs.clone()),
            Box::new(m.model_fallbacks.clone()),
            Box::new(m.refused.clone()),
            Box::new(m.frames_before_start.clone()),
        ] {
            r.register(c).expect("unique metric names");
        }
        m
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Speech requests served by a fallback provider, by role (`stt`, `tts`), failed
/// provider, serving provider and reason. Process-wide (the speech providers are built
/// before the server's registry exists); every [`Metrics`] registry exports it.
pub fn speech_fallbacks() -> &'static IntCounterVec {
    static COUNTER: std::sync::OnceLock<IntCounterVec> = std::sync::OnceLock::new();
    COUNTER.get_or_init(|| {
        IntCounterVec::new(
            Opts::new(
                "speech_fallbacks_total",
                "Speech requests served by a fallback provider after the one before it failed",
            ),
            &["role", "from", "to", "reason"],
        )
        .expect("metric")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::new();
        m.protocol_errors.with_label_values(&["json"]).inc();
        m.frames_in.inc_by(3);
        let text = m.render();
        assert!(
            text.contains("switchboard_protocol_errors_total{kind=\"json\"} 1"),
            "{text}"
        );
        assert!(text.contains("switchboard_frames_in_total 3"));
    }
}
