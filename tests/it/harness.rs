//! Test harness: a real server on port 0 with a temporary store, and a websocket
//! client that speaks Twilio's side of Media Streams with literal JSON.

use std::net::SocketAddr;
use std::path::Path;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

use switchboard::agents::model::ChatModel;
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::{prompts, Runtime, RuntimeConfig};
use switchboard::call::VoiceStack;
use switchboard::config::Config;
use switchboard::speech::fakes::{LevelVadFactory, ToneTts};
use switchboard::speech::SpeechToText;
use switchboard::store::Store;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// 20 ms of μ-law silence.
pub const SILENCE: [u8; 160] = [0xFF; 160];

/// 20 ms of a loud tone as μ-law ("speech" to the level VAD).
pub fn loud_frame() -> Vec<u8> {
    let pcm: Vec<f32> = (0..160).map(|i| 0.5 * (i as f32 * 0.3).sin()).collect();
    switchboard::audio::mulaw::encode_from_f32(&pcm)
}

/// The prompts' agents, every one answered by `model`.
pub fn scripted_runtime(
    store: &Store,
    model: Arc<ScriptedModel>,
    config: RuntimeConfig,
) -> Arc<Runtime> {
    let agents = prompts::load_dir(Path::new("prompts")).unwrap();
    let models: HashMap<String, Arc<dyn ChatModel>> = agents
        .agents()
        .map(|a| (a.name.clone(), model.clone() as Arc<dyn ChatModel>))
        .collect();
    Arc::new(Runtime::new(agents, models, store.clone(), config).unwrap())
}

/// The level VAD, `stt`, a tone voice and the scripted agents.
pub fn scripted_stack(
    store: &Store,
    model: Arc<ScriptedModel>,
    stt: Arc<dyn SpeechToText>,
    config: RuntimeConfig,
) -> VoiceStack {
    VoiceStack {
        vad: Some(Arc::new(LevelVadFactory { threshold: 0.05 })),
        stt: Some(stt),
        tts: Arc::new(ToneTts::default()),
        runtime: Some(scripted_runtime(store, model, config)),
        greeting: None,
        transfer: None, // built from `[twilio]` by `app::assemble`
    }
}

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The operator token production-mode tests configure (through [`ADMIN_ENV`]).
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The environment variable production-mode tests name as `admin_token_env`.
pub const ADMIN_ENV: &str = "SB_IT_ADMIN_API_TOKEN";

/// Production-mode settings for a test server: `public_url` is the server's own
/// address, the Twilio token comes from `twilio_env` (set here to `twilio_token`).
/// `server_extra` goes into `[server]`, `twilio_extra` into `[twilio]`.
pub fn production_toml(
    twilio_env: &str,
    twilio_token: &str,
    server_extra: &str,
    twilio_extra: &str,
) -> String {
    // Same values every time, so tests setting them concurrently agree.
    std::env::set_var(twilio_env, twilio_token);
    std::env::set_var(ADMIN_ENV, ADMIN_TOKEN);
    format!(
        "[server]\npublic_url = \"http://{{addr}}\"\nadmin_token_env = \"{ADMIN_ENV}\"\n{server_extra}\n\
         [twilio]\nauth_token_env = \"{twilio_env}\"\n{twilio_extra}\n"
    )
}

/// What the caller heard: media frames, the time from the start of listening to the
/// first of them, and whether the server closed the stream.
#[derive(Debug, Default)]
pub struct Heard {
    pub frames: usize,
    pub first: Option<std::time::Duration>,
    pub closed: bool,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

/// Write a 16-bit mono WAV of a tone (the greeting in tests).
pub fn write_tone_wav(path: &Path, rate: u32, ms: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = rate * ms / 1000;
    for i in 0..n {
        let t = i as f32 / rate as f32;
        w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

impl TestServer {
    /// Start a server whose greeting is `greeting_ms` of tone (0 = no greeting).
    pub async fn start(greeting_ms: u32, extra_toml: &str) -> Self {
        Self::start_with(greeting_ms, extra_toml, |_| None).await
    }

    /// Serve an already built state (e.g. the embedded stack), keeping `dir` alive.
    pub async fn from_state(state: switchboard::server::AppState, dir: tempfile::TempDir) -> Self {
        let shutdown = state.shutdown.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(switchboard::server::serve(listener, state));
        Self {
            addr,
            shutdown,
            _dir: dir,
        }
    }

    /// Like [`TestServer::start`], with a voice stack built by `voice` (given the store).
    /// `{addr}` in `extra_toml` becomes the bound address (for `public_url`).
    pub async fn start_with<V: Into<Option<VoiceStack>>>(
        greeting_ms: u32,
        extra_toml: &str,
        voice: impl FnOnce(&Store) -> V,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let extra_toml = extra_toml.replace("{addr}", &addr.to_string());
        let dir = tempfile::tempdir().unwrap();
        let greeting = dir.path().join("greeting.wav");
        if greeting_ms > 0 {
            write_tone_wav(&greeting, 16000, greeting_ms);
            std::fs::write(
                dir.path().join("greeting.txt"),
                "Hello and welcome to the support line",
            )
            .unwrap();
        }
        let recordings = dir.path().join("rec");
        let toml = format!(
            "[store]\npath = {:?}\n[recordings]\ndir = {:?}\n[call]\ngreeting_wav = {:?}\nplayout_lead_frames = 0\n[speech]\nstt = \"none\"\ntts = \"none\"\n{extra_toml}",
            dir.path().join("db.sqlite"),
            recordings,
            if greeting_ms > 0 { greeting.display().to_string() } else { String::new() },
        );
        let mut config = Config::from_parts(&toml, "test", Vec::new()).unwrap();
        if !extra_toml.contains("start_timeout_ms") {
            // Paused-time tests auto-advance the clock while waiting on the socket,
            // which would fire the start timeout at once.
            config.server.start_timeout_ms = 0;
        }
        let shutdown = CancellationToken::new();
        let store = switchboard::app::open_store(&config).unwrap();
        let state = match voice(&store).into() {
            Some(v) => switchboard::app::assemble(&config, store, v, shutdown.clone()).unwrap(),
            None => {
                let v = switchboard::providers::greeting_only(&config).unwrap();
                switchboard::app::assemble(&config, store, v, shutdown.clone()).unwrap()
            }
        };
        tokio::spawn(switchboard::server::serve(listener, state));
        Self {
            addr,
            shutdown,
            _dir: dir,
        }
    }

    /// POST /twiml as Twilio would (signed with `auth_token` over the public URL) and
    /// return the `<Stream>`'s parameters, stream token included.
    pub async fn twiml_params(
        &self,
        call_sid: &str,
        from: &str,
        auth_token: &str,
    ) -> Vec<(String, String)> {
        let form: Vec<(String, String)> = vec![
            ("AccountSid".into(), "ACtest".into()),
            ("CallSid".into(), call_sid.into()),
            ("From".into(), from.into()),
            ("To".into(), "+18005550100".into()),
        ];
        let url = format!("{}/twiml", self.public_base());
        let resp = reqwest::Client::new()
            .post(self.url("/twiml"))
            .header(
                "X-Twilio-Signature",
                switchboard::telephony::compute_signature(auth_token, &url, &form),
            )
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body = resp.text().await.unwrap();
        switchboard::telephony::twiml::parse_stream(&body)
            .expect("a <Stream> document")
            .1
    }

    /// The public base a production-mode test server is configured with (its
    /// `public_url`, so signatures are computed over these URLs).
    pub fn public_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// [`TestServer::public_base`] as a websocket URL.
    pub fn public_ws_base(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET with the operator token of the tests ([`ADMIN_TOKEN`]): loopback passes
    /// in development mode anyway; production-mode servers read it from [`ADMIN_ENV`].
    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Wait (in virtual time) until the call record has an outcome.
    pub async fn finished_call(&self, call_sid: &str) -> Value {
        for _ in 0..200 {
            let (status, v) = self.get_json(&format!("/calls/{call_sid}")).await;
            if status == 200 && !v["outcome"].is_null() {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("call {call_sid} never finished");
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Twilio's side of one media stream.
pub struct FakeTwilio {
    pub ws: Ws,
    pub stream_sid: String,
    pub call_sid: String,
    seq: u64,
    chunk: u64,
}

impl FakeTwilio {
    pub async fn connect(server: &TestServer, call_sid: &str) -> Self {
        Self::try_connect(server, call_sid, None).await.unwrap()
    }

    /// Open `/media`, with the handshake signed by `auth_token` over the stream URL as
    /// Twilio does; `Err` carries the HTTP status of a refused upgrade.
    pub async fn try_connect(
        server: &TestServer,
        call_sid: &str,
        auth_token: Option<&str>,
    ) -> Result<Self, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("ws://{}/media", server.addr);
        let mut request = url.as_str().into_client_request().unwrap();
        if let Some(token) = auth_token {
            let public = format!("{}/media", server.public_ws_base());
            let sig = switchboard::telephony::compute_signature(token, &public, &[]);
            request
                .headers_mut()
                .insert("X-Twilio-Signature", sig.parse().unwrap());
        }
        let ws = match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                return Err(resp.status().as_u16())
            }
            Err(e) => panic!("websocket connect failed: {e}"),
        };
        Ok(Self {
            ws,
            stream_sid: format!("MZ{call_sid}"),
            call_sid: call_sid.into(),
            seq: 0,
            chunk: 0,
        })
    }

    /// `start` with exactly these `customParameters` (what Twilio copies from the
    /// TwiML's `<Parameter>`s).
    pub async fn start_params(&mut self, params: &[(String, String)]) {
        let seq = self.next_seq();
        let custom: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let v = json!({"event":"start","sequenceNumber":seq,"streamSid":self.stream_sid,
            "start":{"accountSid":"ACtest","streamSid":self.stream_sid,"callSid":self.call_sid,
                "tracks":["inbound"],"customParameters":custom,
                "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
        self.send_json(v).await;
    }

    /// Read until the server closes: the close code and reason, and how many media
    /// messages came before it.
    pub async fn until_close(&mut self) -> (Option<(u16, String)>, usize) {
        let mut media = 0;
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["event"] == "media" {
                        media += 1;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return (
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                        media,
                    )
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return (None, media),
            }
        }
    }

    fn next_seq(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }

    pub async fn send_raw(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::Text(text.into().into()))
            .await
            .unwrap();
    }

    pub async fn send_json(&mut self, v: Value) {
        self.send_raw(v.to_string()).await;
    }

    pub async fn connected(&mut self) {
        self.send_json(json!({"event":"connected","protocol":"Call","version":"1.0.0"}))
            .await;
    }

    pub async fn start(&mut self, from: &str) {
        let seq = self.next_seq();
        let v = json!({"event":"start","sequenceNumber":seq,"streamSid":self.stream_sid,
            "start":{"accountSid":"ACtest","streamSid":self.stream_sid,"callSid":self.call_sid,
                "tracks":["inbound"],"customParameters":{"From":from,"To":"+18005550100"},
                "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
        self.send_json(v).await;
    }

    pub async fn media(&mut self, payload: &[u8]) {
        let seq = self.next_seq();
        self.chunk += 1;
        let v = json!({"event":"media","sequenceNumber":seq,"streamSid":self.stream_sid,
            "media":{"track":"inbound","chunk":self.chunk.to_string(),"timestamp":(self.chunk * 20).to_string(),
                "payload":B64.encode(payload)}});
        self.send_json(v).await;
    }

    pub async fn mark(&mut self, name: &str) {
        let seq = self.next_seq();
        self.send_json(json!({"event":"mark","sequenceNumber":seq,"streamSid":self.stream_sid,"mark":{"name":name}}))
            .await;
    }

    pub async fn dtmf(&mut self, digit: &str) {
        let seq = self.next_seq();
        self.send_json(
            json!({"event":"dtmf","sequenceNumber":seq,"streamSid":self.stream_sid,
            "dtmf":{"track":"inbound_track","digit":digit}}),
        )
        .await;
    }

    pub async fn stop(&mut self) {
        let seq = self.next_seq();
        let v = json!({"event":"stop","sequenceNumber":seq,"streamSid":self.stream_sid,
            "stop":{"accountSid":"ACtest","callSid":self.call_sid}});
        self.send_json(v).await;
    }

    /// Talk for `talk_frames` × 20 ms (a loud tone, in real time), then listen: send
    /// silence in real time, echoing marks, until `enough` reply frames were heard,
    /// the server closed the stream, or `window` passed since the end of the talk.
    pub async fn talk_then_listen(
        &mut self,
        talk_frames: usize,
        window: std::time::Duration,
        enough: usize,
    ) -> Heard {
        for _ in 0..talk_frames {
            self.media(&loud_frame()).await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.listen_for(window, enough).await
    }

    /// Send silence in real time, echoing marks, until `enough` reply frames were
    /// heard, the stream closed, or `window` passed.
    pub async fn listen_for(&mut self, window: std::time::Duration, enough: usize) -> Heard {
        let since = tokio::time::Instant::now();
        let mut heard = Heard::default();
        while since.elapsed() < window && heard.frames < enough && !heard.closed {
            self.media(&SILENCE).await;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            while let Ok(msg) =
                tokio::time::timeout(std::time::Duration::from_millis(1), self.recv()).await
            {
                let Some(msg) = msg else {
                    heard.closed = true;
                    break;
                };
                match msg["event"].as_str() {
                    Some("media") => {
                        heard.frames += 1;
                        heard.first.get_or_insert(since.elapsed());
                    }
                    Some("mark") => self.mark(msg["mark"]["name"].as_str().unwrap()).await,
                    _ => {}
                }
            }
        }
        heard
    }

    /// The next JSON message from the server, or `None` when the socket closes.
    pub async fn recv(&mut self) -> Option<Value> {
        loop {
            match self.ws.next().await? {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(&t).expect("server sent invalid JSON"))
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

/// How a fake provider in a fault test fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Nothing listens: connections are refused.
    Refuse,
    /// Connections are accepted and never answered.
    Hang,
    /// Headers, then nothing for a long time.
    SlowFirstByte,
    Status500,
    /// A body the client cannot use.
    Malformed,
    /// Part of a response, then the connection drops.
    DisconnectMidResponse,
}

pub const FAULTS: [Fault; 6] = [
    Fault::Refuse,
    Fault::Hang,
    Fault::SlowFirstByte,
    Fault::Status500,
    Fault::Malformed,
    Fault::DisconnectMidResponse,
];

/// A server on a free loopback port failing as `fault` says; for the faults that
/// answer, `POST path` is answered by `respond(fault)`. Its `http://` base URL.
pub async fn faulty_server(
    fault: Fault,
    path: &'static str,
    respond: fn(Fault) -> axum::response::Response,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    match fault {
        Fault::Refuse => drop(listener),
        Fault::Hang => {
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            });
        }
        _ => {
            let app = axum::Router::new().route(
                path,
                axum::routing::post(move || async move { respond(fault) }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
    }
    format!("http://{addr}")
}

/// A streamed response body: `chunks`, each sent after `delay`.
pub fn delayed_body(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
    delay: std::time::Duration,
) -> axum::body::Body {
    let s = futures::stream::iter(chunks).then(move |c| async move {
        tokio::time::sleep(delay).await;
        c
    });
    axum::body::Body::from_stream(s)
}
