//! tw-watcher: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(version, about = "Syncs one Taskwarrior host with the bus")]
struct Cli {
    /// Config file (docs/ARCHITECTURE.md §2).
    #[arg(long, env = "VIKUNJA_SYNC_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match vsync_config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tw-watcher: {e}");
            return ExitCode::from(64);
        }
    };
    let Some(bus_url) = cfg.bus.url.clone() else {
        eprintln!("tw-watcher: missing setting `bus.url`");
        return ExitCode::from(64);
    };
    let host = cfg.taskwarrior.host();
    let _telemetry = match vsync_telemetry::init("tw-watcher", &host, &cfg.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("tw-watcher: {e:#}");
            return ExitCode::from(70);
        }
    };
    let signal = vsync_telemetry::shutdown_signal();
    let stop = CancellationToken::new();
    let result = async {
        let app = tw_watcher::App::build(&cfg, &bus_url, &format!("tw-watcher@{host}")).await?;
        vsync_telemetry::notify_ready();
        let trigger = stop.clone();
        tokio::spawn(async move {
            signal.await;
            trigger.cancel();
        });
        app.run(stop).await
    }
    .await;
    vsync_telemetry::notify_stopping();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, error.cause_chain = ?e, "tw-watcher failed");
            ExitCode::FAILURE
        }
    }
}
