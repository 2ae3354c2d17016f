//! label-sync: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(version, about = "Keeps Vikunja labels in step with Taskwarrior tags")]
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
            eprintln!("label-sync: {e}");
            return ExitCode::from(64);
        }
    };
    let Some(bus_url) = cfg.bus.url.clone() else {
        eprintln!("label-sync: missing setting `bus.url`");
        return ExitCode::from(64);
    };
    let _telemetry = match vsync_telemetry::init("label-sync", "", &cfg.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("label-sync: {e:#}");
            return ExitCode::from(70);
        }
    };
    let signal = vsync_telemetry::shutdown_signal();
    let stop = CancellationToken::new();
    let result = async {
        let app = label_sync::App::build(&cfg, &bus_url, "label-sync").await?;
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
            tracing::error!(error = %e, error.cause_chain = ?e, "label-sync failed");
            ExitCode::FAILURE
        }
    }
}
