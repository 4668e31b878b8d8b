//! OpenTelemetry export: every finished call becomes one trace sent over OTLP/HTTP
//! (JSON) to `[telemetry] otlp_endpoint`.
//!
//! The trace is built from the call's stored record once the call is over, so it
//! carries exactly what the record says, already masked by the store: a `call` span
//! (server kind; start and end from the record; CallSid, masked caller number, agent
//! path, outcome, handoff count, frames) with one `turn` child span per caller turn
//! (its wall-clock start and duration; the agents at its start and end, model calls,
//! and the voice latency stages `endpoint_ms`, `stt_queue_ms`, `stt_decode_ms`,
//! `stt_final_ms`, `first_token_ms`, `first_audio_ms`, `first_frame_ms` measured from
//! the end of the caller's speech, queue and decode being durations). Handoffs (from,
//! to, trigger, reason, `on_handoff` time), tool calls (name, agent, ms, refused) and
//! barge-ins are events on their turn. No transcript text, tool argument or result
//! leaves the process; handoff reasons pass the redactor again.
//!
//! Spans are queued to the SDK's batch processor, which exports from a thread of its
//! own with a blocking HTTP client: nothing here waits on the network. That client
//! must not be created or dropped on a thread driving async tasks, so
//! [`Telemetry::from_config`] and [`Telemetry::shutdown`] do that on threads of their
//! own.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span, SpanKind, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use serde_json::Value;

use crate::config::TelemetryConfig;
use crate::store::calls::CallRecord;

/// Errors setting up the exporter.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("[telemetry] otlp_endpoint {0:?}: {1}")]
    Exporter(String, String),
}

/// The span exporter, or nothing when `[telemetry] otlp_endpoint` is empty. Cheap to
/// clone.
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    /// `Some` until dropped (on a thread of its own: its drop waits for the exporter).
    provider: Option<SdkTracerProvider>,
    tracer: opentelemetry_sdk::trace::SdkTracer,
}

impl Inner {
    fn provider(&self) -> &SdkTracerProvider {
        self.provider.as_ref().expect("present until dropped")
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = std::thread::Builder::new()
                .name("otlp-close".into())
                .spawn(move || drop(provider));
        }
    }
}

impl Telemetry {
    /// No export.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// The exporter `config` names (none for an empty endpoint).
    pub fn from_config(config: &TelemetryConfig) -> Result<Self, TelemetryError> {
        let endpoint = config.otlp_endpoint.trim();
        if endpoint.is_empty() {
            return Ok(Self::disabled());
        }
        let url = if endpoint.trim_end_matches('/').ends_with("/v1/traces") {
            endpoint.to_string()
        } else {
            format!("{}/v1/traces", endpoint.trim_end_matches('/'))
        };
        let timeout = Duration::from_secs(config.timeout_s.max(1));
        let service = config.service_name.clone();
        let built = std::thread::scope(|s| {
            s.spawn(|| {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpJson)
                    .with_endpoint(url.clone())
                    .with_timeout(timeout)
                    .build()
                    .map_err(|e| TelemetryError::Exporter(url.clone(), e.to_string()))?;
                let batch = BatchSpanProcessor::builder(exporter)
                    .with_batch_config(
                        BatchConfigBuilder::default()
                            .with_scheduled_delay(Duration::from_secs(1))
                            .build(),
                    )
                    .build();
                let provider = SdkTracerProvider::builder()
                    .with_span_processor(batch)
                    .with_resource(
                        opentelemetry_sdk::Resource::builder()
                            .with_service_name(service)
                            .build(),
                    )
                    .build();
                Ok(provider)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        let tracer = built.tracer("switchboard");
        tracing::info!(endpoint = %url, "exporting call traces over OTLP");
        Ok(Self {
            inner: Some(Arc::new(Inner {
                provider: Some(built),
                tracer,
            })),
        })
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Queue the trace of one finished call (a no-op when export is off).
    pub fn export_call(&self, record: &CallRecord) {
        if let Some(inner) = &self.inner {
            export(&inner.tracer, record);
        }
    }

    /// Send what is queued now; blocks until sent (or the timeout). Call off the
    /// async threads (`spawn_blocking`).
    pub fn flush(&self) {
        if let Some(inner) = &self.inner {
            if let Err(e) = inner.provider().force_flush() {
                tracing::warn!(error = %e, "OTLP flush failed");
            }
        }
    }

    /// Flush and stop the exporter (at exit), on a thread of its own.
    pub fn shutdown(&self) {
        if let Some(inner) = self.inner.clone() {
            let done = std::thread::spawn(move || {
                if let Err(e) = inner.provider().shutdown() {
                    tracing::warn!(error = %e, "OTLP shutdown failed");
                }
            });
            let _ = done.join();
        }
    }
}

fn time(text: &str) -> Option<SystemTime> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(t.unix_timestamp_nanos().max(0) as u64))
}

fn after(start: SystemTime, ms: f64) -> SystemTime {
    start + Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

/// A phone number with all but its last 4 digits hidden.
pub fn masked_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 4 {
        return "*".repeat(digits.len());
    }
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{}{tail}", "*".repeat(digits.len() - 4))
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn export(tracer: &opentelemetry_sdk::trace::SdkTracer, r: &CallRecord) {
    let Some(start) = time(&r.started_at) else {
        return;
    };
    let end = r
        .ended_at
        .as_deref()
        .and_then(time)
        .unwrap_or_else(SystemTime::now);
    let agents = &r.trace["agents"];
    let handoffs = agents["handoffs"].as_array().cloned().unwrap_or_default();
    let path: Vec<opentelemetry::StringValue> = r.agents.iter().map(|a| a.clone().into()).collect();
    let call = tracer
        .span_builder("call")
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("call.sid", r.call_sid.clone()),
            KeyValue::new("call.stream_sid", r.stream_sid.clone()),
            KeyValue::new("call.from", masked_number(&r.from)),
            KeyValue::new("call.to", r.to.clone()),
            KeyValue::new("call.outcome", r.outcome.clone().unwrap_or_default()),
            KeyValue::new(
                "call.agent_path",
                opentelemetry::Value::Array(opentelemetry::Array::String(path)),
            ),
            KeyValue::new("call.handoffs", handoffs.len() as i64),
            KeyValue::new("call.frames_in", r.frames_in as i64),
            KeyValue::new("call.frames_out", r.frames_out as i64),
            KeyValue::new("call.errors", r.errors as i64),
        ])
        .start(tracer);
    let cx = Context::new().with_span(call);
    let latency = |turn: &Value| -> Vec<KeyValue> {
        let voice = r.trace["voice"]["turns"].as_array();
        let Some(l) = voice.and_then(|v| v.iter().find(|l| l["turn"] == *turn)) else {
            return Vec::new();
        };
        [
            ("endpointMs", "latency.endpoint_ms"),
            ("sttQueueMs", "latency.stt_queue_ms"),
            ("sttDecodeMs", "latency.stt_decode_ms"),
            ("sttFinalMs", "latency.stt_final_ms"),
            ("firstTokenMs", "latency.first_token_ms"),
            ("firstAudioMs", "latency.first_audio_ms"),
            ("firstFrameMs", "latency.first_frame_ms"),
        ]
        .into_iter()
        .filter_map(|(field, key)| l[field].as_f64().map(|v| KeyValue::new(key, v)))
        .collect()
    };
    let redactor = crate::redact::global();
    for t in agents["turns"].as_array().into_iter().flatten() {
        let turn_start = t["started_at"].as_str().and_then(time).unwrap_or(start);
        let turn_end = after(turn_start, t["total_ms"].as_f64().unwrap_or(0.0));
        let mut attributes = vec![
            KeyValue::new("turn.id", t["turn"].as_i64().unwrap_or_default()),
            KeyValue::new("turn.input", str_of(&t["input"])),
            KeyValue::new("turn.agent_start", str_of(&t["agent_start"])),
            KeyValue::new("turn.agent_end", str_of(&t["agent_end"])),
            KeyValue::new(
                "turn.model_calls",
                t["model_calls"].as_i64().unwrap_or_default(),
            ),
            KeyValue::new("turn.cancelled", t["cancelled"].as_bool().unwrap_or(false)),
            KeyValue::new(
                "turn.interrupted",
                t["interrupted"].as_bool().unwrap_or(false),
            ),
        ];
        if let Some(ms) = t["first_sentence_ms"].as_f64() {
            attributes.push(KeyValue::new("turn.first_sentence_ms", ms));
        }
        attributes.extend(latency(&t["turn"]));
        let mut span = tracer
            .span_builder("turn")
            .with_kind(SpanKind::Internal)
            .with_start_time(turn_start)
            .with_attributes(attributes)
            .start_with_context(tracer, &cx);
        for h in handoffs.iter().filter(|h| h["turn"] == t["turn"]) {
            span.add_event_with_timestamp(
                "handoff",
                turn_start,
                vec![
                    KeyValue::new("handoff.from", str_of(&h["from"])),
                    KeyValue::new("handoff.to", str_of(&h["to"])),
                    KeyValue::new("handoff.trigger", str_of(&h["trigger"])),
                    KeyValue::new(
                        "handoff.reason",
                        redactor.redact(&str_of(&h["reason"])).into_owned(),
                    ),
                    KeyValue::new(
                        "handoff.on_handoff_ms",
                        h["on_handoff_ms"].as_f64().unwrap_or(0.0),
                    ),
                    KeyValue::new("handoff.refused", h["refused"].as_bool().unwrap_or(false)),
                ],
            );
        }
        for c in agents["tool_calls"].as_array().into_iter().flatten() {
            if c["turn"] == t["turn"] {
                span.add_event_with_timestamp(
                    "tool_call",
                    turn_start,
                    vec![
                        KeyValue::new("tool.name", str_of(&c["name"])),
                        KeyValue::new("tool.agent", str_of(&c["agent"])),
                        KeyValue::new("tool.ms", c["ms"].as_f64().unwrap_or(0.0)),
                        KeyValue::new("tool.refused", c["refused"].as_bool().unwrap_or(false)),
                    ],
                );
            }
        }
        for b in r.trace["voice"]["bargeIns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if b["turn"] == t["turn"] {
                span.add_event_with_timestamp(
                    "barge_in",
                    turn_end,
                    vec![
                        KeyValue::new(
                            "barge_in.reaction_ms",
                            b["reactionMs"].as_f64().unwrap_or(0.0),
                        ),
                        KeyValue::new(
                            "barge_in.heard_chars",
                            b["heardChars"].as_i64().unwrap_or(0),
                        ),
                    ],
                );
            }
        }
        span.end_with_timestamp(turn_end.max(turn_start));
    }
    cx.span().end_with_timestamp(end.max(start));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_numbers_keep_only_their_last_four_digits() {
        assert_eq!(masked_number("+15551230001"), "*******0001");
        assert_eq!(masked_number("123"), "***");
        assert_eq!(masked_number(""), "");
    }

    #[test]
    fn no_endpoint_no_exporter() {
        let t = Telemetry::from_config(&TelemetryConfig::default()).unwrap();
        assert!(!t.enabled());
        t.export_call(&CallRecord {
            call_sid: "CA1".into(),
            stream_sid: String::new(),
            account_sid: String::new(),
            from: String::new(),
            to: String::new(),
            started_at: "2026-01-01T00:00:00.000Z".into(),
            ended_at: None,
            frames_in: 0,
            frames_out: 0,
            errors: 0,
            agents: vec![],
            transcript: vec![],
            outcome: None,
            trace: Value::Null,
            recording: None,
            codec: None,
            transport: None,
        });
    }
}
