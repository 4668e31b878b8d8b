//! The real binary as a process, with real signals: SIGTERM drains (readiness fails at
//! once, new streams are refused, a live call goes on, then hears the closing line and
//! is closed, its record written, exit 0), and `kill -9` loses no finished record,
//! leaves a playable recording linked from the record, and the next start closes the
//! call it left open as `interrupted`.
//!
//! The server runs in foundation mode (a greeting WAV, no speech models), so it is
//! ready in well under a second and needs no model files.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{write_tone_wav, B64};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    db: PathBuf,
}

/// Config for a foundation-mode server with its own store and recordings in `dir`.
fn write_config(dir: &Path, drain_s: u64) -> PathBuf {
    let store = format!("path = {:?}", dir.join("calls.sqlite"));
    write_config_with_store(dir, drain_s, &store)
}

/// Config for a foundation-mode server with recordings in `dir` and `store` as the
/// body of its `[store]` table.
pub(crate) fn write_config_with_store(dir: &Path, drain_s: u64, store: &str) -> PathBuf {
    let greeting = dir.join("greeting.wav");
    write_tone_wav(&greeting, 8000, 1500);
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndrain_timeout_s = {drain_s}\n\
         closing_line = \"Sorry, we have to end the call now.\"\n\
         [store]\n{store}\n[recordings]\nenabled = true\ndir = {:?}\n\
         [speech]\nstt = \"none\"\ntts = \"none\"\nvad = \"none\"\n\
         [models]\nauto_fetch = false\n[call]\ngreeting_wav = {:?}\n",
        dir.join("recordings"),
        greeting,
    );
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

impl Server {
    pub(crate) async fn start(dir: &Path, config: &Path) -> Self {
        Self::start_within(dir, config, Duration::from_secs(10)).await
    }

    /// [`Server::start`], waiting up to `ready_within` for `/readyz` (models to load).
    pub(crate) async fn start_within(dir: &Path, config: &Path, ready_within: Duration) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        // The test's own config only: CI exports SWITCHBOARD_* overrides (store and
        // recordings paths) that would win over the file.
        for (key, _) in std::env::vars() {
            if key.starts_with("SWITCHBOARD_") {
                cmd.env_remove(key);
            }
        }
        let mut child = cmd
            .args(["serve", "--config"])
            .arg(config)
            .env("HOSTNAME", "process-test-host")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the binary");
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for stream in [
            Box::new(out) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(err),
        ] {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = tx.send(line);
                }
            });
        }
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = rx.recv().await {
                if line.contains("switchboard listening") {
                    let at = line.find("127.0.0.1:").expect("address in the log line");
                    let rest = &line[at..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
                        .unwrap_or(rest.len());
                    return rest[..end].to_string();
                }
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server listens");
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let server = Self {
            child,
            addr,
            db: dir.join("calls.sqlite"),
        };
        let deadline = tokio::time::Instant::now() + ready_within;
        while tokio::time::Instant::now() < deadline {
            if server.readyz().await == 200 {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never ready");
    }

    pub(crate) async fn readyz(&self) -> u16 {
        let url = format!("http://{}/readyz", self.addr);
        match reqwest::get(&url).await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    pub(crate) fn signal(&self, sig: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub(crate) async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("the process exits in time")
            .unwrap()
            .code()
    }

    pub(crate) async fn connect(&self) -> Result<Ws, u16> {
        let url = format!("ws://{}/media", self.addr);
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("connect: {e}"),
        }
    }
}

pub(crate) async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

pub(crate) async fn start_call(ws: &mut Ws, sid: &str) {
    send(
        ws,
        json!({"event":"connected","protocol":"Call","version":"1.0.0"}),
    )
    .await;
    send(
        ws,
        json!({"event":"start","sequenceNumber":"1","streamSid":format!("MZ{sid}"),
        "start":{"accountSid":"ACproc","streamSid":format!("MZ{sid}"),"callSid":sid,
            "tracks":["inbound"],"customParameters":{"From":"+15550009999","To":"+18005550100"},
            "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}),
    )
    .await;
}

pub(crate) async fn media(ws: &mut Ws, sid: &str, n: u64) {
    let payload = B64.encode([0xFFu8; 160]);
    send(ws, json!({"event":"media","sequenceNumber":(n + 2).to_string(),"streamSid":format!("MZ{sid}"),
        "media":{"track":"inbound","chunk":n.to_string(),"timestamp":(n * 20).to_string(),"payload":payload}}))
    .await;
}

/// Read what the server sends for `ms`, echoing marks; (media frames, closed).
pub(crate) async fn listen(ws: &mut Ws, ms: u64) -> (usize, bool) {
    let mut frames = 0;
    let end = tokio::time::Instant::now() + Duration::from_millis(ms);
    loop {
        let Ok(next) = tokio::time::timeout_at(end, ws.next()).await else {
            return (frames, false);
        };
        match next {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["event"].as_str() {
                    Some("media") => frames += 1,
                    Some("mark") => {
                        let echo =
                            json!({"event":"mark","streamSid":v["streamSid"],"mark":v["mark"]});
                        let _ = ws.send(Message::Text(echo.to_string().into())).await;
                    }
                    _ => {}
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return (frames, true),
            Some(Ok(_)) => {}
        }
    }
}

async fn record(db: &Path, sid: &str) -> switchboard::store::calls::CallRecord {
    let store = Store::open(db).unwrap();
    store.call(sid).await.unwrap().expect("a record")
}

#[tokio::test]
async fn sigterm_drains_live_calls_then_closes_them_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 2);
    let mut server = Server::start(dir.path(), &config).await;
    let mut ws = server.connect().await.unwrap();
    start_call(&mut ws, "CAdrain1").await;
    let (greeting, closed) = listen(&mut ws, 600).await;
    assert!(greeting > 0 && !closed, "greeted");
    server.signal("-TERM");
    // Readiness fails at once; new streams are refused.
    let mut status = 0;
    for _ in 0..50 {
        status = server.readyz().await;
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 503, "readyz while draining");
    assert_eq!(
        server.connect().await.err(),
        Some(503),
        "a new stream is refused"
    );
    // The live call goes on for the drain time (2 s): caller audio is still taken.
    for n in 0..40 {
        media(&mut ws, "CAdrain1", n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, closed) = listen(&mut ws, 300).await;
    assert!(!closed, "still live during the drain");
    // Then it is closed (after its closing line) and the process exits 0.
    let (_, closed) = listen(&mut ws, 8000).await;
    assert!(closed, "closed once the drain time was up");
    assert_eq!(server.exit_code(Duration::from_secs(20)).await, Some(0));
    let rec = record(&server.db, "CAdrain1").await;
    assert_eq!(rec.outcome.as_deref(), Some("interrupted"), "{rec:?}");
    assert!(rec.ended_at.is_some());
    assert!(
        rec.frames_in >= 40,
        "caller audio kept during the drain: {}",
        rec.frames_in
    );
    let wav = rec.recording.expect("recording linked");
    assert!(hound::WavReader::open(&wav).unwrap().len() >= 40 * 160);
}

#[tokio::test]
async fn a_call_that_ends_during_the_drain_lets_the_process_exit_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 60);
    let mut server = Server::start(dir.path(), &config).await;
    let mut ws = server.connect().await.unwrap();
    start_call(&mut ws, "CAdrain2").await;
    listen(&mut ws, 300).await;
    server.signal("-INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(
        &mut ws,
        json!({"event":"stop","sequenceNumber":"9","streamSid":"MZCAdrain2",
        "stop":{"accountSid":"ACproc","callSid":"CAdrain2"}}),
    )
    .await;
    // Well before the 60 s drain time.
    assert_eq!(server.exit_code(Duration::from_secs(10)).await, Some(0));
    let rec = record(&server.db, "CAdrain2").await;
    assert_eq!(rec.outcome.as_deref(), Some("completed"), "{rec:?}");
}

#[tokio::test]
async fn kill_9_keeps_records_and_a_playable_recording_and_the_next_start_closes_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 5);
    let mut server = Server::start(dir.path(), &config).await;
    // A finished call, then a live one with 2.4 s of caller audio.
    let mut done = server.connect().await.unwrap();
    start_call(&mut done, "CAfinished").await;
    listen(&mut done, 200).await;
    send(
        &mut done,
        json!({"event":"stop","sequenceNumber":"9","streamSid":"MZCAfinished",
        "stop":{"accountSid":"ACproc","callSid":"CAfinished"}}),
    )
    .await;
    listen(&mut done, 500).await;
    let mut ws = server.connect().await.unwrap();
    start_call(&mut ws, "CAcrash").await;
    for n in 0..120 {
        media(&mut ws, "CAcrash", n).await;
        if n % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    listen(&mut ws, 1500).await;
    server.signal("-KILL");
    assert_eq!(
        server.exit_code(Duration::from_secs(5)).await,
        None,
        "killed"
    );
    let finished = record(&server.db, "CAfinished").await;
    assert_eq!(finished.outcome.as_deref(), Some("completed"));
    let open = record(&server.db, "CAcrash").await;
    assert_eq!(
        (open.outcome.as_deref(), open.ended_at.as_deref()),
        (None, None)
    );
    let wav = open
        .recording
        .clone()
        .expect("linked from the record from the start");
    let samples = hound::WavReader::open(&wav)
        .expect("playable after kill -9")
        .len();
    assert!(
        samples >= 8000,
        "at least the whole seconds written: {samples}"
    );
    // The next process on this host closes the call the dead one left open.
    let mut next = Server::start(dir.path(), &config).await;
    let closed = record(&next.db, "CAcrash").await;
    assert_eq!(closed.outcome.as_deref(), Some("interrupted"), "{closed:?}");
    assert!(closed.ended_at.is_some());
    assert_eq!(closed.recording, open.recording);
    next.signal("-TERM");
    assert_eq!(next.exit_code(Duration::from_secs(10)).await, Some(0));
}
