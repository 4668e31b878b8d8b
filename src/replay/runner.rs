//! Replays scenarios one after another: prepares each call (ids, caller audio,
//! timing rules), drives it, fetches the call record, checks expectations and
//! writes the outputs. Also owns the in-process server used when no `--url` is
//! given.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::config::Config;

use super::client::{drive, fetch_record, Target};
use super::error::ReplayError;
use super::expect::evaluate;
use super::report::{write_json, write_recording, Report, TurnReport};
use super::scenario::Scenario;
use super::sim::{CallIds, CallSim, CallerTurn, EndedBy, SimConfig};
use super::Speed;

/// How to replay.
#[derive(Debug, Clone)]
pub struct Options {
    pub speed: Speed,
    /// Directory for `<name>.wav` and `<name>.json` (`None` = write nothing).
    pub out: Option<PathBuf>,
    /// Give up on a call after this much wall time.
    pub call_timeout: Duration,
    /// How long to wait for the call record to get its outcome.
    pub record_wait: Duration,
    /// What the replay signs and authenticates with, like Twilio and an operator.
    pub credentials: Credentials,
}

/// Secrets the replay uses against a production-mode server: the Twilio auth token
/// (signs `/twiml` and the stream handshake) and the operator token (reads `/calls`).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub twilio_auth_token: Option<String>,
    pub admin_token: Option<String>,
}

impl Credentials {
    /// From the environment variables `config` names (`[twilio] auth_token_env`,
    /// `[server] admin_token_env`).
    pub fn from_env(config: &Config) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Credentials {
            twilio_auth_token: var(&config.twilio.auth_token_env),
            admin_token: var(&config.server.admin_token_env),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            speed: Speed::Realtime,
            out: None,
            call_timeout: Duration::from_secs(300),
            record_wait: Duration::from_secs(10),
            credentials: Credentials::default(),
        }
    }
}

/// `prefix` + 32 hex digits, like Twilio's SIDs, unique per call.
pub fn make_sid(prefix: &str, seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    format!("{prefix}{}", &hex::encode(digest)[..32])
}

fn call_ids(s: &Scenario) -> CallIds {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{}:{}:{nanos}:{n}", s.name, std::process::id());
    let call_sid = make_sid("CA", &seed);
    let mut params = s.params.clone();
    params.insert("From".into(), s.from.clone());
    params.insert("To".into(), s.to.clone());
    params.insert("CallSid".into(), call_sid.clone());
    CallIds {
        account_sid: make_sid("AC", "switchboard-replay"),
        stream_sid: make_sid("MZ", &seed),
        call_sid,
        custom_parameters: params,
    }
}

/// Replay one scenario against `target`; never fails — problems end up in the report.
pub async fn replay_scenario(
    s: &Scenario,
    target: &Target,
    http: &reqwest::Client,
    opts: &Options,
) -> Report {
    let speed = opts.speed.as_str();
    let mut report = Report::failed(&s.name, &s.path, speed, String::new());
    report.error = None;
    report.description = s.description.clone();
    report.from = s.from.clone();
    let audio = match s.load_audio() {
        Ok(a) => a,
        Err(e) => return Report::failed(&s.name, &s.path, speed, e.to_string()),
    };
    let turns: Vec<CallerTurn> = s
        .turns
        .iter()
        .zip(audio)
        .map(|(t, frames)| CallerTurn {
            frames,
            dtmf: t.dtmf.clone().unwrap_or_default(),
            silence_after_ms: t.silence_after_ms.unwrap_or(s.silence_after_ms),
            barge_in_ms: t.barge_in_ms,
        })
        .collect();
    let mut ids = call_ids(s);
    report.call_sid = ids.call_sid.clone();
    // The call comes in as on Twilio: the webhook first, then the stream with the
    // parameters (and stream token) the TwiML names.
    let webhook: Vec<(String, String)> = vec![
        ("AccountSid".into(), ids.account_sid.clone()),
        ("CallSid".into(), ids.call_sid.clone()),
        ("From".into(), s.from.clone()),
        ("To".into(), s.to.clone()),
        ("CallStatus".into(), "ringing".into()),
        ("Direction".into(), "inbound".into()),
    ];
    let creds = &opts.credentials;
    let stream_url = match super::client::twiml_stream(http, target, &webhook, creds).await {
        Ok((url, params)) => {
            ids.custom_parameters.extend(params);
            url
        }
        Err(e) => return Report::failed(&s.name, &s.path, speed, e.to_string()),
    };
    let cfg = SimConfig::from_ms(s.reply_gap_ms, s.reply_timeout_ms, s.wait_for_greeting);
    let mut sim = CallSim::new(ids, turns, cfg);
    let started = Instant::now();
    let driven = drive(&stream_url, creds, &mut sim, opts.speed, opts.call_timeout).await;
    report.wall_ms = started.elapsed().as_millis() as u64;
    let result = sim.finish();
    report.ended_by = result.ended_by;
    report.line_ms = result.line_ms;
    report.line = result.stats.clone();
    report.interruptions = result.clears.clone();
    report.turns = s
        .turns
        .iter()
        .zip(&result.turns)
        .map(|(t, stats)| TurnReport {
            text: t.text.clone(),
            wav: t.wav.as_ref().map(|w| w.display().to_string()),
            stats: stats.clone(),
        })
        .collect();

    let mut error = driven.err().map(|e| e.to_string());
    if error.is_none() && result.ended_by == EndedBy::Timeout {
        error = Some(ReplayError::Timeout(opts.call_timeout.as_secs()).to_string());
    }
    if error.is_none() {
        match fetch_record(
            http,
            &target.http_base,
            &report.call_sid,
            creds,
            opts.record_wait,
        )
        .await
        {
            Ok(record) => {
                report.set_record(record);
                let view = super::expect::RecordView::from_json(&report.record);
                report.checks = evaluate(&s.expect, &view, &result);
                report.passed = report.checks.iter().all(|c| c.ok);
            }
            Err(e) => error = Some(e.to_string()),
        }
    }
    report.error = error;
    if report.error.is_some() {
        report.passed = false;
    }
    if let Some(dir) = &opts.out {
        if let Err(e) = write_outputs(dir, &mut report, &result) {
            report.passed = false;
            report.error.get_or_insert(e.to_string());
        }
    }
    report
}

fn write_outputs(
    dir: &Path,
    report: &mut Report,
    result: &super::sim::SimResult,
) -> Result<(), ReplayError> {
    std::fs::create_dir_all(dir).map_err(|e| ReplayError::Output {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    if !result.caller.is_empty() {
        let wav = format!("{}.wav", report.scenario);
        write_recording(&dir.join(&wav), result)?;
        report.recording = Some(wav);
    }
    write_json(&dir.join(format!("{}.json", report.scenario)), report)
}

/// A server in this process on 127.0.0.1:0 with a throw-away store; shut down on drop.
pub struct InProcessServer {
    pub target: Target,
    store: crate::store::Store,
    shutdown: CancellationToken,
    dir: PathBuf,
}

impl InProcessServer {
    /// Build the server from `config` (store and recordings moved to a temp dir; a
    /// greeting WAV that does not exist is skipped) and start serving.
    pub async fn start(mut config: Config) -> Result<InProcessServer, ReplayError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("switchboard-replay-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ReplayError::Server(format!("{}: {e}", dir.display())))?;
        config.store.path = dir.join("switchboard.sqlite");
        // Never a shared database: the replay resets the demo customers.
        config.store.database_url.clear();
        config.recordings.dir = dir.join("recordings");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ReplayError::Server(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ReplayError::Server(e.to_string()))?;
        if config.server.enforcing() {
            // Production mode stays on, at the address the replay reaches.
            config.server.public_url = format!("http://{addr}");
        }
        let greeting = &config.call.greeting_wav;
        if !greeting.as_os_str().is_empty() && !greeting.exists() {
            warn!(path = %greeting.display(), "greeting WAV not found; serving without one");
            config.call.greeting_wav = PathBuf::new();
        }
        let shutdown = CancellationToken::new();
        let state = crate::app::build_state(&config, shutdown.clone())
            .map_err(|e| ReplayError::Server(e.to_string()))?;
        let store = state.store.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::server::serve(listener, state).await {
                warn!(error = %e, "in-process server failed");
            }
        });
        Ok(InProcessServer {
            target: Target {
                http_base: format!("http://{addr}"),
            },
            store,
            shutdown,
            dir,
        })
    }

    /// Put the demo customer data back to its seed, so the next scenario does not
    /// see refunds, plan changes or tickets an earlier one made.
    pub async fn reset(&self) -> Result<(), ReplayError> {
        self.store
            .reset_customer_data()
            .await
            .map_err(|e| ReplayError::Server(format!("resetting the demo data: {e}")))
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_look_like_twilio_and_are_unique() {
        let a = make_sid("CA", "x");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("CA") && a[2..].chars().all(|c| c.is_ascii_hexdigit()));
        let s = Scenario::parse("from = \"+15551230001\"\n", Path::new("a.toml")).unwrap();
        let (i1, i2) = (call_ids(&s), call_ids(&s));
        assert_ne!(i1.call_sid, i2.call_sid);
        assert_eq!(i1.custom_parameters["From"], "+15551230001");
        assert_eq!(i1.custom_parameters["To"], "+18005550100");
        assert_eq!(i1.custom_parameters["CallSid"], i1.call_sid);
    }
}
