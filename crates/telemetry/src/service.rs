//! The life of a service process, the same for every binary: read the config (exit 64 when it
//! is unusable), start telemetry, install the signal handlers, build, announce readiness, run
//! until SIGTERM/SIGINT, then say it is stopping and report the outcome.

use std::path::Path;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;
use vsync_config::Config;

/// A service that runs until its token is cancelled, finishing in-flight work.
pub trait Service {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What a binary's `main` does. `instance` becomes `service.instance.id`; `build` connects and
/// binds (everything that must succeed before the service is ready), given the config and the
/// bus URL.
pub async fn main<S, F, Fut>(
    name: &'static str,
    config: Option<&Path>,
    instance: impl FnOnce(&Config) -> String,
    build: F,
) -> ExitCode
where
    S: Service,
    F: FnOnce(Config, String) -> Fut,
    Fut: Future<Output = anyhow::Result<S>>,
{
    let cfg = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(64);
        }
    };
    let Some(bus_url) = cfg.bus.url.clone() else {
        eprintln!("{name}: missing setting `bus.url`");
        return ExitCode::from(64);
    };
    let _telemetry = match crate::init(name, &instance(&cfg), &cfg.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            return ExitCode::from(70);
        }
    };
    let signal = crate::shutdown_signal();
    let stop = CancellationToken::new();
    let result = async {
        let service = build(cfg, bus_url).await?;
        crate::notify_ready();
        let trigger = stop.clone();
        tokio::spawn(async move {
            signal.await;
            trigger.cancel();
        });
        service.run(stop).await
    }
    .await;
    crate::notify_stopping();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, error.cause_chain = ?e, "{name} failed");
            ExitCode::FAILURE
        }
    }
}
