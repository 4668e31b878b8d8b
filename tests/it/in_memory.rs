//! The call loop driven through in-memory channels with paused time, no socket: the
//! carrier's frames go in on one channel and the bot's come out on another, so the
//! pacing, turn-taking and barge-in timings below are exact (the real-socket tests in
//! `call_loop.rs` and `media_stream.rs` cover the axum websocket around it).

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use futures::channel::mpsc;
use futures::SinkExt;
use serde_json::{json, Value};
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::RuntimeConfig;
use switchboard::call::identity::StreamAuth;
use switchboard::call::{CallDeps, CallSettings, MachineConfig, WsFrame};
use switchboard::metrics::Metrics;
use switchboard::speech::fakes::ScriptedStt;
use switchboard::store::Store;
use switchboard::telephony::stream_token::StreamTokens;
use switchboard::telephony::Limits;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::harness::{loud_frame, scripted_stack, SILENCE};

/// The carrier's end of one call.
struct Line {
    tx: mpsc::UnboundedSender<WsFrame>,
    rx: mpsc::UnboundedReceiver<WsFrame>,
    call_sid: String,
    seq: u64,
    task: tokio::task::JoinHandle<()>,
}

fn deps(store: &Store, model: Arc<ScriptedModel>, stt: ScriptedStt) -> CallDeps {
    CallDeps {
        store: store.clone(),
        metrics: Arc::new(Metrics::new()),
        settings: Arc::new(CallSettings {
            limits: Limits::default(),
            machine: MachineConfig::default(),
            max_errors: 10,
            recordings_dir: None,
            auth: StreamAuth {
                tokens: StreamTokens::new("in-memory test secret", 60),
                require_token: false,
            },
            start_timeout: Duration::from_secs(5),
            closing_line: "Sorry, we have to end the call now.".into(),
        }),
        voice: Arc::new(scripted_stack(
            store,
            model,
            Arc::new(stt),
            RuntimeConfig::default(),
        )),
        telemetry: Default::default(),
    }
}

impl Line {
    fn open(deps: CallDeps, call_sid: &str) -> Self {
        let (tx, inbound) = mpsc::unbounded();
        let (outbound, rx) = mpsc::unbounded();
        let task = tokio::spawn(switchboard::call::run(
            inbound,
            outbound,
            deps,
            None,
            CancellationToken::new(),
        ));
        Self {
            tx,
            rx,
            call_sid: call_sid.into(),
            seq: 0,
            task,
        }
    }

    async fn send(&mut self, mut v: Value) {
        self.seq += 1;
        v["sequenceNumber"] = json!(self.seq.to_string());
        v["streamSid"] = json!(format!("MZ{}", self.call_sid));
        // A closed line (the stream was refused or ended) takes nothing more.
        let _ = self.tx.send(WsFrame::Text(v.to_string())).await;
    }

    async fn start(&mut self, from: &str) {
        let sid = format!("MZ{}", self.call_sid);
        let call = self.call_sid.clone();
        self.send(
            json!({"event":"start","start":{"accountSid":"ACmem","streamSid":sid,
            "callSid":call,"tracks":["inbound"],
            "customParameters":{"From":from,"To":"+18005550100"},
            "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}),
        )
        .await;
    }

    async fn media(&mut self, payload: &[u8]) {
        let chunk = self.seq;
        self.send(
            json!({"event":"media","media":{"track":"inbound","chunk":chunk.to_string(),
            "timestamp":(chunk * 20).to_string(),"payload":B64.encode(payload)}}),
        )
        .await;
    }

    /// Send one 20 ms caller frame, let 20 ms pass, and take what the bot sent
    /// meanwhile (echoing its marks): (time, event, message) per message.
    async fn frame(&mut self, payload: &[u8], t0: Instant) -> Vec<(u64, String)> {
        self.media(payload).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut got = Vec::new();
        while let Ok(Some(frame)) = self.rx.try_recv().map(Some) {
            let at = (Instant::now() - t0).as_millis() as u64;
            match frame {
                WsFrame::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    let event = v["event"].as_str().unwrap_or("").to_string();
                    if event == "mark" {
                        let name = v["mark"]["name"].as_str().unwrap().to_string();
                        self.send(json!({"event":"mark","mark":{"name":name}}))
                            .await;
                    }
                    got.push((at, event));
                }
                WsFrame::Reject { .. } => got.push((at, "reject".into())),
                WsFrame::Close => got.push((at, "close".into())),
                _ => {}
            }
        }
        got
    }

    /// Send `n` frames of `payload`; everything the bot sent meanwhile.
    async fn frames(&mut self, payload: &[u8], n: usize, t0: Instant) -> Vec<(u64, String)> {
        let mut got = Vec::new();
        for _ in 0..n {
            got.extend(self.frame(payload, t0).await);
        }
        got
    }

    async fn stop(mut self) {
        self.send(json!({"event":"stop","stop":{"accountSid":"ACmem"}}))
            .await;
        self.task.await.unwrap();
    }
}

fn media_times(got: &[(u64, String)]) -> Vec<u64> {
    got.iter()
        .filter(|(_, e)| e == "media")
        .map(|(t, _)| *t)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_turn_is_paced_measured_and_recorded_over_channels() {
    let store = Store::open_in_memory().unwrap();
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say("triage", "Sure, let me look into that for you.");
    let stt = ScriptedStt::new(["I have a question about my account"]);
    let mut line = Line::open(deps(&store, model.clone(), stt.clone()), "CAmem1");
    let t0 = Instant::now();
    line.start("+15550001111").await;
    let greeting = line.frames(&SILENCE, 200, t0).await;
    let times = media_times(&greeting);
    assert!(times.len() > 20, "greeting played: {} frames", times.len());
    // Paced in real time (two frames of lead): never more than one frame per 20 ms.
    for w in times.windows(2).skip(2) {
        assert!(w[1] - w[0] <= 40, "frames bunched or stalled: {times:?}");
    }
    // The caller talks for 600 ms and pauses: one turn, one reply, paced too.
    line.frames(&loud_frame(), 30, t0).await;
    let reply = line.frames(&SILENCE, 300, t0).await;
    assert!(media_times(&reply).len() > 20, "reply played");
    line.stop().await;
    model.assert_consumed();
    stt.assert_consumed();
    let call = store.call("CAmem1").await.unwrap().expect("record");
    assert_eq!(call.outcome.as_deref(), Some("hangup"), "{call:?}");
    let texts: Vec<&str> = call.transcript.iter().map(|l| l.text.as_str()).collect();
    assert!(
        texts.contains(&"I have a question about my account"),
        "{texts:?}"
    );
    // The turn's latency stages are in the trace, under the machine's turn id, which
    // is also the conversation's.
    let latency = &call.trace["voice"]["turns"][0];
    let turn = latency["turn"].as_u64().expect("turn id");
    let frame_ms = latency["firstFrameMs"].as_f64().expect("first frame");
    assert!(frame_ms >= 500.0 && frame_ms < 1500.0, "{latency}");
    assert_eq!(
        call.trace["agents"]["turns"][0]["turn"].as_u64(),
        Some(turn),
        "{:#}",
        call.trace
    );
}

#[tokio::test(start_paused = true)]
async fn barge_in_clears_within_the_threshold_and_keeps_the_heard_part_for_its_turn() {
    let store = Store::open_in_memory().unwrap();
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say(
        "triage",
        "I can help with that. First I will need to look at your account and the recent charges on it, which takes a moment.",
    );
    model.say("triage", "Of course, go ahead.");
    let stt = ScriptedStt::new(["I have a billing question", "Wait, one more thing"]);
    let mut line = Line::open(deps(&store, model.clone(), stt.clone()), "CAmem2");
    let t0 = Instant::now();
    line.start("+15550002222").await;
    line.frames(&SILENCE, 150, t0).await;
    line.frames(&loud_frame(), 30, t0).await;
    // Let the long reply play for a second, then talk over it.
    let mut got = Vec::new();
    for _ in 0..200 {
        got.extend(line.frame(&SILENCE, t0).await);
        if media_times(&got).len() >= 50 {
            break;
        }
    }
    let onset = (Instant::now() - t0).as_millis() as u64;
    let over = line.frames(&loud_frame(), 20, t0).await;
    let clear = over
        .iter()
        .find(|(_, e)| e == "clear")
        .map(|(t, _)| *t)
        .expect("clear sent");
    // Onset needs 60 ms of speech, barge-in 160 ms; one 20 ms tick of slack.
    assert!(
        clear - onset <= 200,
        "clear {} ms after speech began",
        clear - onset
    );
    let after: Vec<u64> = over
        .iter()
        .filter(|(t, e)| e == "media" && *t > clear)
        .map(|(t, _)| *t)
        .collect();
    assert!(after.is_empty(), "audio after clear: {after:?}");
    line.frames(&SILENCE, 150, t0).await;
    line.stop().await;
    let call = store.call("CAmem2").await.unwrap().expect("record");
    let cut = call
        .transcript
        .iter()
        .find(|l| l.interrupted)
        .unwrap_or_else(|| panic!("an interrupted line: {:?}", call.transcript));
    assert!(
        cut.text.starts_with("I can help with that."),
        "{}",
        cut.text
    );
    assert!(!cut.text.contains("takes a moment"), "{}", cut.text);
    let turns = call.trace["agents"]["turns"].as_array().unwrap();
    let interrupted: Vec<&Value> = turns.iter().filter(|t| t["interrupted"] == true).collect();
    assert_eq!(interrupted.len(), 1, "{turns:#?}");
    assert_eq!(interrupted[0]["caller"], "I have a billing question");
}

#[tokio::test(start_paused = true)]
async fn a_second_stream_for_a_call_is_refused_by_its_record() {
    let store = Store::open_in_memory().unwrap();
    let model = Arc::new(ScriptedModel::new("scripted"));
    let mut first = Line::open(
        deps(
            &store,
            model.clone(),
            ScriptedStt::new(Vec::<String>::new()),
        ),
        "CAmem3",
    );
    let t0 = Instant::now();
    first.start("+15550003333").await;
    assert!(
        !media_times(&first.frames(&SILENCE, 50, t0).await).is_empty(),
        "greeted"
    );
    let mut second = Line::open(
        deps(&store, model, ScriptedStt::new(Vec::<String>::new())),
        "CAmem3",
    );
    second.start("+15550003333").await;
    let got = second.frames(&SILENCE, 10, t0).await;
    assert!(got.iter().any(|(_, e)| e == "reject"), "{got:?}");
    assert!(
        media_times(&got).is_empty(),
        "a refused stream hears nothing: {got:?}"
    );
    second.task.await.unwrap();
    first.stop().await;
}
