//! The `switchboard` command line: `serve`, and the tools around it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing::info;

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
    /// Replay scenario files (simulated Twilio callers) against the bot and check them.
    Replay(switchboard::replay::ReplayArgs),
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
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
    match cli.command {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                config.server.listen = addr;
            }
            serve(config).await
        }
        Command::Replay(args) => std::process::exit(switchboard::replay::run(args, config).await),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let state = switchboard::app::build_state(&config, shutdown.clone()).context("starting up")?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    info!(addr = %listener.local_addr()?, "switchboard listening");
    let signal = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        info!("shutting down");
        signal.cancel();
    });
    switchboard::server::serve(listener, state)
        .await
        .context("server failed")?;
    Ok(())
}
