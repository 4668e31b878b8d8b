//! OpenTelemetry export against a local OTLP/HTTP receiver: a call that is handed off
//! from triage to billing arrives as one trace — a `call` span with the agent path,
//! outcome and masked caller, a `turn` child span per caller turn with its latency
//! stages, the handoff (with its trigger) and the tool call as events — and nothing
//! the caller said (a card number, their phone number) is in it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use serde_json::{json, Value};
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::RuntimeConfig;
use switchboard::speech::fakes::ScriptedStt;

use crate::harness::{scripted_stack, FakeTwilio, TestServer};

/// An OTLP/HTTP receiver on port 0 keeping every JSON body posted to `/v1/traces`.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let v: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                kept.lock().unwrap().push(v);
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), bodies)
}

fn spans(bodies: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for body in bodies {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                out.extend(ss["spans"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    out
}

/// An attribute's value (string, int, double, bool or string array), as JSON.
fn attr(attributes: &Value, key: &str) -> Value {
    let Some(kv) = attributes
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
    else {
        return Value::Null;
    };
    let v = &kv["value"];
    for k in ["stringValue", "boolValue", "doubleValue"] {
        if !v[k].is_null() {
            return v[k].clone();
        }
    }
    if !v["intValue"].is_null() {
        // OTLP JSON writes 64-bit integers as strings or numbers.
        return match &v["intValue"] {
            Value::String(s) => json!(s.parse::<i64>().unwrap()),
            other => other.clone(),
        };
    }
    if let Some(values) = v["arrayValue"]["values"].as_array() {
        return Value::Array(values.iter().map(|x| x["stringValue"].clone()).collect());
    }
    Value::Null
}

#[tokio::test]
async fn a_handed_off_call_is_exported_as_one_masked_trace() {
    let (endpoint, bodies) = receiver().await;
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "duplicate charge", "trigger": "intent"}),
    );
    model.say("billing", "I can see two charges on March twelfth.");
    let stt = ScriptedStt::new(["I was charged twice, my card is 4111 1111 1111 1111"]);
    let toml = format!("[telemetry]\notlp_endpoint = {endpoint:?}\n");
    let server = TestServer::start_with(0, &toml, |store| {
        scripted_stack(
            store,
            model.clone(),
            Arc::new(stt.clone()),
            RuntimeConfig::default(),
        )
    })
    .await;
    let mut tw = FakeTwilio::connect(&server, "CAotel").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    let heard = tw.talk_then_listen(20, Duration::from_secs(3), 21).await;
    assert!(heard.frames > 20, "the billing reply was spoken");
    tw.stop().await;
    let record = server.finished_call("CAotel").await;
    assert_eq!(record["agents"], json!(["triage", "billing"]));

    // The batch exporter sends within its 1 s schedule.
    let mut exported = Vec::new();
    for _ in 0..100 {
        exported = spans(&bodies.lock().unwrap());
        if exported.iter().any(|s| s["name"] == "call") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let call = exported
        .iter()
        .find(|s| s["name"] == "call")
        .unwrap_or_else(|| panic!("no call span in {exported:?}"));
    let a = &call["attributes"];
    assert_eq!(attr(a, "call.sid"), "CAotel");
    assert_eq!(attr(a, "call.agent_path"), json!(["triage", "billing"]));
    assert_eq!(attr(a, "call.outcome"), record["outcome"]);
    assert!(record["outcome"].is_string());
    assert_eq!(attr(a, "call.from"), "*******0001");
    assert_eq!(attr(a, "call.handoffs"), 1);
    let turns: Vec<&Value> = exported.iter().filter(|s| s["name"] == "turn").collect();
    assert_eq!(turns.len(), 1, "{exported:?}");
    let turn = turns[0];
    assert_eq!(turn["parentSpanId"], call["spanId"], "a child of the call");
    assert_eq!(turn["traceId"], call["traceId"]);
    let t = &turn["attributes"];
    assert_eq!(attr(t, "turn.agent_start"), "triage");
    assert_eq!(attr(t, "turn.agent_end"), "billing");
    assert!(attr(t, "latency.stt_final_ms").is_number(), "{t}");
    assert!(attr(t, "latency.first_frame_ms").is_number(), "{t}");
    let handoff = turn["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == "handoff"))
        .unwrap_or_else(|| panic!("no handoff event: {turn}"));
    let h = &handoff["attributes"];
    assert_eq!(attr(h, "handoff.from"), "triage");
    assert_eq!(attr(h, "handoff.to"), "billing");
    assert_eq!(attr(h, "handoff.trigger"), "intent");
    assert_eq!(attr(h, "handoff.reason"), "duplicate charge");
    // Nothing the caller said or is identified by leaves the process.
    let all = serde_json::to_string(&*bodies.lock().unwrap()).unwrap();
    for secret in ["4111", "1111 1111", "charged twice", "15551230001"] {
        assert!(!all.contains(secret), "{secret} exported: {all}");
    }
    server.shutdown.cancel();
}
