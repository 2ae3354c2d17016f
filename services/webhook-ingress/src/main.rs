//! webhook-ingress: see the library docs.

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Verifies Vikunja webhooks and publishes them to the bus"
)]
struct Cli {
    /// Config file (docs/ARCHITECTURE.md §2).
    #[arg(long, env = "VIKUNJA_SYNC_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg = match vsync_config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("webhook-ingress: {e}");
            return std::process::ExitCode::from(64);
        }
    };
    let Some(bus_url) = cfg.bus.url.clone() else {
        eprintln!("webhook-ingress: missing setting `bus.url`");
        return std::process::ExitCode::from(64);
    };
    let _telemetry = match vsync_telemetry::init("webhook-ingress", "", &cfg.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("webhook-ingress: {e:#}");
            return std::process::ExitCode::from(70);
        }
    };
    let signal = vsync_telemetry::shutdown_signal();
    let result = async {
        let app = webhook_ingress::App::build(&cfg, &bus_url, "webhook-ingress").await?;
        vsync_telemetry::notify_ready();
        app.run(signal).await
    }
    .await;
    vsync_telemetry::notify_stopping();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, error.cause_chain = ?e, "webhook-ingress failed");
            std::process::ExitCode::FAILURE
        }
    }
}
