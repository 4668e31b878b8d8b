//! Escalation to a person over the live call loop (a real transfer request to a local
//! fake Twilio REST API, the warm-transfer whisper brief) and keypad digits reaching
//! the agent. Scripted providers, paused time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Form, Router};
use serde_json::{json, Value};
use switchboard::agents::model::ChatMessage;
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::RuntimeConfig;
use switchboard::call::VoiceStack;
use switchboard::speech::fakes::ScriptedStt;
use switchboard::store::Store;

use crate::harness::{loud_frame, scripted_stack, FakeTwilio, TestServer, SILENCE};

/// (call path segment, form fields) of every call update the fake received.
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A fake Twilio REST API on port 0 recording `POST .../Calls/{sid}.json` bodies.
async fn fake_twilio_rest() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            post(
                |State(seen): State<Seen>,
                 Path((account, call)): Path<(String, String)>,
                 Form(form): Form<Vec<(String, String)>>| async move {
                    assert_eq!(account, "ACesc0001");
                    seen.lock().unwrap().push((call, form));
                    "{}"
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn stack(store: &Store, model: Arc<ScriptedModel>, stt: ScriptedStt) -> VoiceStack {
    // A transfer number is configured in these tests: a live transfer is possible.
    let config = RuntimeConfig {
        live_transfer: true,
        ..RuntimeConfig::default()
    };
    scripted_stack(store, model, Arc::new(stt), config)
}

/// Send one paced frame and handle what the server sent meanwhile (echo marks);
/// returns the number of media frames received.
async fn paced(tw: &mut FakeTwilio, payload: &[u8]) -> usize {
    tw.media(payload).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut media = 0;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(1), tw.recv()).await {
        match msg["event"].as_str() {
            Some("media") => media += 1,
            Some("mark") => tw.mark(msg["mark"]["name"].as_str().unwrap()).await,
            _ => {}
        }
    }
    media
}

/// Send silence until the bot has spoken and then been quiet for 200 ms.
async fn hear_reply(tw: &mut FakeTwilio) -> usize {
    let (mut frames, mut quiet) = (0, 0);
    for _ in 0..1000 {
        let n = paced(tw, &SILENCE).await;
        frames += n;
        quiet = if n == 0 { quiet + 1 } else { 0 };
        if frames > 0 && quiet >= 10 {
            return frames;
        }
    }
    panic!("the bot never finished speaking ({frames} frames)");
}

#[tokio::test(start_paused = true)]
async fn escalation_dials_the_configured_number_with_a_whisper_brief() {
    let (api_base, seen) = fake_twilio_rest().await;
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.call(
        "triage",
        "transfer_to_human",
        json!({"reason": "caller asked for a person", "trigger": "escalation"}),
    );
    let stt = ScriptedStt::new(["I want to talk to a real person"]);
    // Production mode, as on a real number: signed webhook, signed stream, token.
    let extra = crate::harness::production_toml(
        "IT_ESCALATION_TWILIO_TOKEN",
        "secret-token",
        "",
        &format!(
            "transfer_number = \"+15550001111\"\naccount_sid = \"ACesc0001\"\napi_base = {api_base:?}"
        ),
    );
    let server =
        TestServer::start_with(0, &extra, |store| stack(store, model.clone(), stt.clone())).await;
    let params = server
        .twiml_params("CA700", "+15551230001", "secret-token")
        .await;
    let mut tw = FakeTwilio::try_connect(&server, "CA700", Some("secret-token"))
        .await
        .expect("signed handshake");
    tw.connected().await;
    tw.start_params(&params).await;
    assert!(hear_reply(&mut tw).await > 0, "greeting spoken");
    for _ in 0..20 {
        paced(&mut tw, &loud_frame()).await;
    }
    // The hand-over sentence plays, then the call is transferred.
    let mut handover = 0;
    for _ in 0..1000 {
        handover += paced(&mut tw, &SILENCE).await;
        if !seen.lock().unwrap().is_empty() {
            break;
        }
    }
    assert!(handover > 0, "the hand-over sentence was spoken");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (call, form) = &requests[0];
    assert_eq!(call, "CA700.json");
    let twiml = form
        .iter()
        .find(|(k, _)| k == "Twiml")
        .map(|(_, v)| v.clone())
        .expect("Twiml field");
    let whisper_url = format!("{}/whisper/CA700", server.public_base());
    assert!(
        twiml.contains(&format!(
            "<Dial><Number url=\"{whisper_url}\">+15550001111</Number></Dial>"
        )),
        "{twiml}"
    );
    // Twilio ends the media stream once the new TwiML runs.
    tw.stop().await;
    let record = server.finished_call("CA700").await;
    stt.assert_consumed();
    model.assert_consumed();
    assert_eq!(record["outcome"], "escalated", "{record:#}");
    let agents = record["agents"].as_array().unwrap();
    assert_eq!(agents.last(), Some(&json!("human")), "{agents:?}");
    let escalation = &record["trace"]["voice"]["escalation"];
    assert_eq!(escalation["transferredTo"], "+15550001111");
    let brief = escalation["brief"]
        .as_str()
        .expect("brief stored")
        .to_string();
    assert!(brief.contains("caller asked for a person"), "{brief}");
    // Twilio fetches the whisper brief with a signed request; unsigned is refused.
    assert_eq!(server.get_text("/whisper/CA700").await.0, 403);
    let resp = reqwest::Client::new()
        .post(server.url("/whisper/CA700"))
        .header(
            "X-Twilio-Signature",
            switchboard::telephony::compute_signature("secret-token", &whisper_url, &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let whisper = resp.text().await.unwrap();
    let say = format!(
        "<Say>{}</Say>",
        switchboard::telephony::twiml::escape_xml(&brief)
    );
    assert!(whisper.contains(&say), "{whisper}");
    server.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn keypad_digits_reach_the_agent_as_a_turn() {
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say("triage", "Thanks, I found the account ending 1234.");
    let stt = ScriptedStt::new(Vec::<String>::new());
    let server =
        TestServer::start_with(0, "", |store| stack(store, model.clone(), stt.clone())).await;
    let mut tw = FakeTwilio::connect(&server, "CA701").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    assert!(hear_reply(&mut tw).await > 0, "greeting spoken");
    for d in ["1", "2", "3", "4", "#"] {
        tw.dtmf(d).await;
        paced(&mut tw, &SILENCE).await;
    }
    assert!(
        hear_reply(&mut tw).await > 0,
        "the agent answered the digits"
    );
    tw.stop().await;
    let record = server.finished_call("CA701").await;
    model.assert_consumed();
    let requests = model.requests_for("triage");
    let last_user = requests
        .last()
        .expect("triage was asked")
        .messages
        .iter()
        .rev()
        .find_map(|m| match m {
            ChatMessage::User { content } => Some(content.clone()),
            _ => None,
        })
        .expect("a user message");
    assert!(last_user.contains("1234"), "{last_user}");
    assert!(!last_user.contains('#'), "{last_user}");
    let transcript: Vec<Value> = record["transcript"].as_array().unwrap().clone();
    assert!(
        transcript
            .iter()
            .any(|t| t["speaker"] == "caller" && t["text"].as_str().unwrap_or("").contains("1234")),
        "{transcript:?}"
    );
    server.shutdown.cancel();
}
