//! QA replay: `switchboard replay` plays recorded callers against the bot as
//! Twilio would, and checks what happened.
//!
//! For each scenario ([`scenario`]) the tool opens a Media Streams websocket and
//! acts as Twilio: `connected`, `start` (with `From`/`To`/`CallSid` and the
//! scenario's custom parameters), a continuous stream of 20 ms μ-law `media`
//! frames (caller speech from WAV, silence otherwise), `dtmf`, and `stop`. It
//! simulates the phone's playout of the bot's audio ([`carrier_playout`]): one frame
//! per tick, `mark`s echoed when reached, `clear` honoured with every pending
//! mark echoed at once. Turn-taking and barge-in rules live in [`sim`]; timing
//! modes (`realtime`, `fast`) and their semantics in [`client`].
//!
//! After the call it fetches `GET /calls/{callSid}`, checks the expectations
//! ([`expect`]), and writes per call a stereo WAV (caller left, bot right, as
//! heard) and a JSON report ([`report`]), a summary line on stdout, a diff on
//! mismatch, and optionally JUnit XML ([`junit`]). The exit code is 0 only when
//! every scenario passed.

mod caller_script;
pub mod carrier_playout;
pub mod client;
mod error;
pub mod expect;
pub mod junit;
mod measurements;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

pub use client::Target;
pub use error::ReplayError;
pub use report::Report;
pub use runner::{replay_scenario, InProcessServer, Options};
pub use scenario::Scenario;

use crate::config::Config;

/// How time passes on the simulated line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Speed {
    /// One 20 ms frame per 20 ms of wall time, like a real phone line.
    Realtime,
    /// Caller audio and bot playout without waiting where the server cannot tell.
    Fast,
}

impl Speed {
    /// `realtime` or `fast`.
    pub fn as_str(self) -> &'static str {
        match self {
            Speed::Realtime => "realtime",
            Speed::Fast => "fast",
        }
    }
}

/// `switchboard replay`: play scenario files against the bot and check the results.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Scenario files, or directories searched recursively for *.toml.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Media Streams websocket of a running server, e.g. ws://127.0.0.1:8080/media;
    /// `/twiml` and `/calls` are asked beside it, and each call streams to the URL the
    /// TwiML names (default: start one in this process from the configuration).
    #[arg(long)]
    pub url: Option<String>,
    /// Directory for the recordings and JSON reports.
    #[arg(long, default_value = "replay-out")]
    pub out: PathBuf,
    /// realtime: 20 ms of wall time per frame; fast: skip waits the server cannot notice.
    #[arg(long, value_enum, default_value_t = Speed::Realtime)]
    pub speed: Speed,
    /// Also write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Only scenarios whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Give up on one call after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub call_timeout_secs: u64,
    /// Wait at most this long for the server's /readyz.
    #[arg(long, default_value_t = 300)]
    pub ready_timeout_secs: u64,
}

/// Run the command; returns the process exit code (0 all passed, 1 some failed,
/// 2 nothing could run). `config` configures the in-process server.
pub async fn run(args: ReplayArgs, config: Config) -> i32 {
    let files = match scenario::discover(&args.paths) {
        Ok(f) if f.is_empty() => {
            eprintln!("replay: no scenario files (*.toml) found");
            return 2;
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("replay: {e}");
            return 2;
        }
    };
    let opts = Options {
        speed: args.speed,
        out: Some(args.out.clone()),
        call_timeout: Duration::from_secs(args.call_timeout_secs),
        credentials: runner::Credentials::from_env(&config),
        ..Options::default()
    };
    let mut scenarios = Vec::new();
    let mut reports = Vec::new();
    for f in &files {
        match Scenario::load(f) {
            Ok(s) => {
                if args
                    .filter
                    .as_ref()
                    .is_none_or(|w| s.name.contains(w.as_str()))
                {
                    scenarios.push(s);
                }
            }
            Err(e) => {
                let name = f.file_stem().unwrap_or_default().to_string_lossy();
                let r = Report::failed(&name, f, opts.speed.as_str(), e.to_string());
                println!("{}", r.summary());
                reports.push(r);
            }
        }
    }

    let (server, target) = match &args.url {
        Some(url) => match Target::from_ws_url(url) {
            Ok(t) => (None, t),
            Err(e) => {
                eprintln!("replay: {e}");
                return 2;
            }
        },
        None => match InProcessServer::start(config).await {
            Ok(s) => {
                let t = s.target.clone();
                (Some(s), t)
            }
            Err(e) => {
                eprintln!("replay: {e}");
                return 2;
            }
        },
    };
    let http = reqwest::Client::new();
    let ready = Duration::from_secs(args.ready_timeout_secs);
    if let Err(e) = client::wait_ready(&http, &target.http_base, ready).await {
        eprintln!("replay: {e}");
        return 2;
    }

    let bar = progress_bar(scenarios.len());
    for s in &scenarios {
        bar.set_message(s.name.clone());
        if let Some(server) = &server {
            if let Err(e) = server.reset().await {
                eprintln!("replay: {e}");
                return 2;
            }
        }
        let report = replay_scenario(s, &target, &http, &opts).await;
        let line = report.summary_with_diff();
        bar.suspend(|| println!("{line}"));
        bar.inc(1);
        reports.push(report);
    }
    bar.finish_and_clear();

    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, junit::render("switchboard-replay", &reports)) {
            eprintln!("replay: writing {}: {e}", path.display());
            return 2;
        }
    }
    let passed = reports.iter().filter(|r| r.passed).count();
    let errors = reports.iter().filter(|r| r.error.is_some()).count();
    let failed = reports.len() - passed - errors;
    println!(
        "replayed {} scenarios ({}): {passed} passed, {failed} failed, {errors} errors; outputs in {}",
        reports.len(),
        opts.speed.as_str(),
        args.out.display()
    );
    if passed == reports.len() {
        0
    } else {
        1
    }
}

fn progress_bar(n: usize) -> indicatif::ProgressBar {
    if n < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
