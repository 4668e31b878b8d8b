//! Call-loop latency benchmark: a load generator speaking Twilio's side of Media
//! Streams to an in-process server, on the real clock.
//!
//! - `--mode fakes`: zero-latency scripted providers (instant STT, tone TTS, scripted
//!   replies), `--calls` concurrent calls × `--turns` turns; every `--barge-every`-th
//!   turn talks over the previous reply. Reports the internal overhead (first reply
//!   frame minus the endpoint wait), STT final → first frame, and barge-in reaction.
//! - `--mode embedded`: the configured embedded stack answering the caller WAVs
//!   (`--callers/*-1.wav`), one call at a time, real-time paced; reports voice-to-voice
//!   latency and its breakdown.
//!
//! `cargo run --release --example latency_bench -- --mode fakes`

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use clap::Parser;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::agents::model::ChatModel;
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::{prompts, Runtime, RuntimeConfig};
use switchboard::call::VoiceStack;
use switchboard::config::Config;
use switchboard::speech::fakes::{LevelVadFactory, ScriptedStt, ToneTts};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const SILENCE: [u8; 160] = [0xFF; 160];
/// The `i`-th scripted reply (about 1.4 s of speech).
fn reply(i: usize) -> String {
    format!(
        "Sure, I can help with request {i}. Let me look at your account and the charges \
         for request {i}, then we can sort it out together."
    )
}

#[derive(Parser)]
struct Args {
    /// `fakes` or `embedded`.
    #[arg(long, default_value = "fakes")]
    mode: String,
    /// Concurrent calls (fakes).
    #[arg(long, default_value_t = 10)]
    calls: usize,
    /// Turns per call (fakes).
    #[arg(long, default_value_t = 20)]
    turns: usize,
    /// Every n-th turn starts while the previous reply plays (fakes; 0 = never).
    #[arg(long, default_value_t = 4)]
    barge_every: usize,
    /// Directory of caller WAVs; `*-1.wav` are used (embedded).
    #[arg(long, default_value = "audio-fixtures/callers")]
    callers: PathBuf,
    /// Calls per WAV (embedded).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Leading embedded calls not counted (model warm-up).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Calls in progress at once (embedded).
    #[arg(long, default_value_t = 1)]
    concurrent: usize,
    /// Extra config TOML for the embedded server (`\n` for newlines), e.g.
    /// `[call]\nspeculate_after_ms = 0` to measure without speculative finals.
    #[arg(long, default_value = "")]
    config_extra: String,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Twilio's side of one call, paced at one frame per 20 ms.
struct Caller {
    ws: Ws,
    sid: String,
    seq: u64,
    chunk: u64,
    tick: tokio::time::Interval,
    first_media: Option<Instant>,
    last_media: Option<Instant>,
    clears: Vec<Instant>,
}

impl Caller {
    async fn connect(addr: std::net::SocketAddr, sid: &str) -> anyhow::Result<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/media")).await?;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut c = Self {
            ws,
            sid: sid.to_string(),
            seq: 0,
            chunk: 0,
            tick,
            first_media: None,
            last_media: None,
            clears: Vec::new(),
        };
        c.send(json!({"event":"connected","protocol":"Call","version":"1.0.0"}))
            .await?;
        let ms = format!("MZ{sid}");
        c.send(
            json!({"event":"start","streamSid":ms,"start":{"accountSid":"ACbench",
            "streamSid":ms,"callSid":sid,"tracks":["inbound"],
            "customParameters":{"From":"+15551230001","To":"+18005550100"},
            "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}),
        )
        .await?;
        Ok(c)
    }

    async fn send(&mut self, mut v: Value) -> anyhow::Result<()> {
        self.seq += 1;
        v["sequenceNumber"] = json!(self.seq.to_string());
        v["streamSid"] = json!(format!("MZ{}", self.sid));
        self.ws.send(Message::Text(v.to_string().into())).await?;
        Ok(())
    }

    async fn on_msg(
        &mut self,
        msg: Option<Result<Message, impl std::fmt::Debug>>,
    ) -> anyhow::Result<()> {
        let now = Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(_)) => return Ok(()),
            _ => anyhow::bail!("socket closed"),
        };
        let v: Value = serde_json::from_str(&text)?;
        match v["event"].as_str() {
            Some("media") => {
                self.first_media.get_or_insert(now);
                self.last_media = Some(now);
            }
            Some("clear") => self.clears.push(now),
            Some("mark") => {
                let name = v["mark"]["name"].clone();
                self.send(json!({"event":"mark","mark":{"name":name}}))
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Wait for the next 20 ms tick (handling server messages), then send `payload`.
    async fn frame(&mut self, payload: &[u8]) -> anyhow::Result<Instant> {
        loop {
            tokio::select! {
                _ = self.tick.tick() => break,
                msg = self.ws.next() => self.on_msg(msg).await?,
            }
        }
        let at = Instant::now();
        let p = B64.encode(payload);
        self.chunk += 1;
        let (chunk, ts) = (self.chunk.to_string(), (self.chunk * 20).to_string());
        self.send(
            json!({"event":"media","media":{"track":"inbound","chunk":chunk,
            "timestamp":ts,"payload":p}}),
        )
        .await?;
        Ok(at)
    }

    /// Send silence until the bot has spoken and then been quiet for `quiet`.
    async fn until_quiet(&mut self, quiet: Duration, max: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            self.frame(&SILENCE).await?;
            if self.last_media.is_some_and(|t| t.elapsed() >= quiet) {
                return Ok(());
            }
            anyhow::ensure!(start.elapsed() < max, "no reply within {max:?}");
        }
    }

    /// Send silence until the bot's first frame after `endpoint_frames` silent frames;
    /// returns the time from the last of those frames to the first reply frame.
    async fn await_reply(&mut self, endpoint_frames: usize, max: Duration) -> anyhow::Result<f64> {
        let mut ep = None;
        let start = Instant::now();
        for n in 1.. {
            let at = self.frame(&SILENCE).await?;
            if n == endpoint_frames {
                ep = Some(at);
                self.first_media = None;
            }
            if let (Some(ep), Some(first)) = (ep, self.first_media) {
                return Ok(ms(first.saturating_duration_since(ep)));
            }
            anyhow::ensure!(start.elapsed() < max, "no reply within {max:?}");
        }
        unreachable!()
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        let sid = self.sid.clone();
        self.send(json!({"event":"stop","stop":{"accountSid":"ACbench","callSid":sid}}))
            .await
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn loud_frame() -> Vec<u8> {
    let pcm: Vec<f32> = (0..160).map(|i| 0.5 * (i as f32 * 0.3).sin()).collect();
    switchboard::audio::mulaw::encode_from_f32(&pcm)
}

/// Nearest-rank percentile of unsorted samples.
fn pct(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn row(name: &str, s: &[f64]) {
    println!(
        "{name:<44} n={:<4} p50={:>8.1} p95={:>8.1} p99={:>8.1} max={:>8.1} ms",
        s.len(),
        pct(s, 50.0),
        pct(s, 95.0),
        pct(s, 99.0),
        pct(s, 100.0)
    );
}

/// Serve `state` on port 0; returns the address.
async fn serve(state: switchboard::server::AppState) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(switchboard::server::serve(listener, state));
    Ok(addr)
}

/// The finished call record.
async fn call_record(addr: std::net::SocketAddr, sid: &str) -> anyhow::Result<Value> {
    for _ in 0..500 {
        let v: Value = reqwest::get(format!("http://{addr}/calls/{sid}"))
            .await?
            .json()
            .await
            .unwrap_or(Value::Null);
        if !v["outcome"].is_null() {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("call {sid} never finished")
}

fn turns(call: &Value) -> Vec<Value> {
    call["trace"]["voice"]["turns"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[derive(Default)]
struct Fig {
    client_overhead: Vec<f64>,
    record_overhead: Vec<f64>,
    final_to_frame: Vec<f64>,
    barge_client: Vec<f64>,
    barge_record: Vec<f64>,
    missing_turns: usize,
}

/// The load generator is one client opening many streams at once: lift the
/// per-client cap on sockets awaiting `start` (429 otherwise).
const LOAD_CLIENT: &str = "[server]\nmax_pending_per_client = 1024\n";

async fn fakes(args: &Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let toml = format!(
        "[store]\npath = {:?}\n[recordings]\nenabled = false\n[call]\ngreeting_wav = \"\"\n[speech]\nstt = \"none\"\ntts = \"none\"\n{LOAD_CLIENT}",
        dir.path().join("db.sqlite")
    );
    let config = Config::from_parts(&toml, "bench", Vec::new())?;
    let endpoint = config.call.endpoint_silence_ms as usize;
    let store = switchboard::app::open_store(&config)?;
    let model = Arc::new(ScriptedModel::new("bench"));
    let total = args.calls * args.turns * 2;
    // Every reply different: the runtime never says a sentence twice in a call, and a
    // dropped repeat would leave nothing to barge in on.
    for i in 0..total {
        model.say("triage", &reply(i));
    }
    let stt = ScriptedStt::new(vec!["I have a question about my bill please"; total]);
    let agents = prompts::load_dir(Path::new("prompts"))?;
    let models: HashMap<String, Arc<dyn ChatModel>> = agents
        .agents()
        .map(|a| (a.name.clone(), model.clone() as Arc<dyn ChatModel>))
        .collect();
    let runtime = Runtime::new(agents, models, store.clone(), RuntimeConfig::default())?;
    let voice = VoiceStack {
        vad: Some(Arc::new(LevelVadFactory { threshold: 0.05 })),
        stt: Some(Arc::new(stt)),
        tts: Arc::new(ToneTts::default()),
        runtime: Some(Arc::new(runtime)),
        greeting: None,
        transfer: None,
    };
    let shutdown = CancellationToken::new();
    let state = switchboard::app::assemble(&config, store, voice, shutdown.clone())?;
    let addr = serve(state).await?;
    println!(
        "fakes: {} concurrent calls x {} turns, barge-in every {} turns, endpoint {endpoint} ms",
        args.calls, args.turns, args.barge_every
    );
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.calls {
        let (turns_n, barge_every) = (args.turns, args.barge_every);
        tasks.push(tokio::spawn(async move {
            fake_call(
                addr,
                &format!("CABENCH{c:04}"),
                turns_n,
                barge_every,
                endpoint,
            )
            .await
        }));
    }
    let mut fig = Fig::default();
    for t in tasks {
        let (sid, client, barge) = t.await??;
        let call = call_record(addr, &sid).await?;
        let ts = turns(&call);
        fig.missing_turns += args.turns.saturating_sub(ts.len());
        fig.client_overhead.extend(client);
        fig.barge_client.extend(barge);
        for t in &ts {
            let (ff, sf) = (t["firstFrameMs"].as_f64(), t["sttFinalMs"].as_f64());
            if let (Some(ff), Some(sf)) = (ff, sf) {
                // `firstFrameMs` counts from the last speech frame, so it includes the
                // whole endpoint wait.
                fig.record_overhead.push(ff - endpoint as f64);
                fig.final_to_frame.push(ff - sf);
                if std::env::var_os("BENCH_PER_TURN").is_some() {
                    eprintln!(
                        "{sid} turn {}: overhead {:.1} ms, sttFinal->frame {:.1} ms",
                        t["turn"],
                        ff - endpoint as f64,
                        ff - sf
                    );
                }
            }
        }
        for b in call["trace"]["voice"]["bargeIns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            fig.barge_record.extend(b["reactionMs"].as_f64());
        }
    }
    println!("wall time {:.1} s", started.elapsed().as_secs_f64());
    row(
        "overhead, client (ep frame sent -> 1st frame)",
        &fig.client_overhead,
    );
    row(
        "overhead, record (firstFrameMs - ep wait)",
        &fig.record_overhead,
    );
    row("sttFinal -> firstFrame (record)", &fig.final_to_frame);
    row(
        "barge-in, client (1st loud frame -> clear)",
        &fig.barge_client,
    );
    row("barge-in, record (reactionMs)", &fig.barge_record);
    println!("turns missing from records: {}", fig.missing_turns);
    shutdown.cancel();
    Ok(())
}

/// One scripted caller: `turns` turns of 400 ms tone; returns (sid, client overheads,
/// client barge-in reactions).
async fn fake_call(
    addr: std::net::SocketAddr,
    sid: &str,
    turns: usize,
    barge_every: usize,
    endpoint_ms: usize,
) -> anyhow::Result<(String, Vec<f64>, Vec<f64>)> {
    let mut c = Caller::connect(addr, sid).await?;
    let loud = loud_frame();
    let (mut over, mut barge) = (Vec::new(), Vec::new());
    c.until_quiet(Duration::from_millis(200), Duration::from_secs(20))
        .await?; // greeting
    for turn in 1..=turns {
        let clears_before = c.clears.len();
        let onset = c.frame(&loud).await?;
        for _ in 1..20 {
            c.frame(&loud).await?;
        }
        if let Some(cl) = c.clears.get(clears_before) {
            barge.push(ms(cl.saturating_duration_since(onset)));
        }
        over.push(
            c.await_reply(endpoint_ms / 20, Duration::from_secs(10))
                .await?,
        );
        let next_barges = barge_every > 0 && (turn + 1) % barge_every == 0 && turn < turns;
        if next_barges {
            for _ in 0..10 {
                c.frame(&SILENCE).await?; // let 200 ms of the reply play, then talk over it
            }
        } else {
            c.until_quiet(Duration::from_millis(200), Duration::from_secs(20))
                .await?;
        }
    }
    c.stop().await?;
    Ok((sid.to_string(), over, barge))
}

/// One embedded call: greeting, the caller WAV at real time, the first reply. Returns
/// the first turn's trace entry, the client's end-of-WAV → first-frame time and the
/// agent path.
async fn embedded_call(
    addr: SocketAddr,
    sid: String,
    wav: PathBuf,
) -> anyhow::Result<(Value, Option<f64>, Value)> {
    let mut c = Caller::connect(addr, &sid).await?;
    c.until_quiet(Duration::from_millis(600), Duration::from_secs(60))
        .await?; // greeting
    let pcm = switchboard::audio::wav::read_wav(&wav)?;
    let mulaw = switchboard::audio::wav::to_phone(&pcm)?;
    for f in mulaw.chunks(160) {
        c.frame(f).await?;
    }
    c.first_media = None;
    c.last_media = None;
    let sent = Instant::now();
    c.until_quiet(Duration::from_millis(1000), Duration::from_secs(60))
        .await?;
    let client = c.first_media.map(|t| ms(t.saturating_duration_since(sent)));
    c.stop().await?;
    let call = call_record(addr, &sid).await?;
    let t = turns(&call).into_iter().next().unwrap_or(Value::Null);
    Ok((t, client, call["agents"].clone()))
}

async fn embedded(args: &Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let toml = format!(
        "[store]\npath = {:?}\n[recordings]\nenabled = false\n{LOAD_CLIENT}{}",
        dir.path().join("db.sqlite"),
        args.config_extra.replace("\\n", "\n"),
    );
    let config = Config::from_parts(&toml, "bench", Vec::new())?;
    let shutdown = CancellationToken::new();
    let cfg = config.clone();
    let sd = shutdown.clone();
    let state =
        tokio::task::spawn_blocking(move || switchboard::app::build_state(&cfg, sd)).await??;
    let addr = serve(state).await?;
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(&args.callers)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-1.wav"))
        .collect();
    wavs.sort();
    anyhow::ensure!(!wavs.is_empty(), "no *-1.wav under {:?}", args.callers);
    let cols = [
        "endpointMs",
        "sttQueueMs",
        "sttDecodeMs",
        "sttFinalMs",
        "firstTokenMs",
        "firstAudioMs",
        "firstFrameMs",
    ];
    let mut figs: Vec<Vec<f64>> = vec![Vec::new(); cols.len() + 1];
    let (mut n, mut speculative, mut counted) = (0, 0, 0);
    let conc = args.concurrent.max(1);
    for rep in 0..args.reps + args.warmup {
        // `conc` callers at a time, each starting with a different WAV.
        for batch in wavs.chunks(conc) {
            let mut tasks = Vec::new();
            for (i, wav) in batch.iter().enumerate() {
                n += 1;
                let sid = format!("CAEMB{n:04}");
                let wav = wav.clone();
                tasks.push(tokio::spawn(async move {
                    // Staggered a little, as calls arrive.
                    tokio::time::sleep(Duration::from_millis(37 * i as u64)).await;
                    let name = wav
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    (sid.clone(), name, embedded_call(addr, sid, wav).await)
                }));
            }
            for task in tasks {
                let (sid, name, out) = task.await?;
                let (t, client, agents) = out?;
                println!(
                    "{sid} {name} rep {rep}: {t} | client (end of WAV -> 1st frame) {:?} ms | agents {agents}",
                    client.map(|c| c.round()),
                );
                if rep < args.warmup {
                    continue;
                }
                counted += 1;
                speculative += usize::from(t["sttSpeculative"].as_bool() == Some(true));
                for (i, col) in cols.iter().enumerate() {
                    figs[i].extend(t[col].as_f64());
                }
                figs[cols.len()].extend(client);
            }
        }
    }
    println!("{conc} concurrent call(s); {speculative}/{counted} finals decoded speculatively");
    for (i, col) in cols.iter().enumerate() {
        row(&format!("{col} (from end of speech, record)"), &figs[i]);
    }
    row("end of WAV -> first frame (client)", &figs[cols.len()]);
    shutdown.cancel();
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match args.mode.as_str() {
        "fakes" => fakes(&args).await,
        "embedded" => embedded(&args).await,
        other => anyhow::bail!("unknown --mode {other} (fakes | embedded)"),
    }
}
