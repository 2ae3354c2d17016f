//! What every service binary's `main` does: config (exit 64 when unusable, also when `build`
//! fails on a [`vsync_config::ConfigError`]), telemetry (exit 70
//! when it cannot start), signal handlers, build, then [`run_until`] the signal (or the end of
//! a supervising `vikunja-sync up`) with [`DRAIN_TIMEOUT`], and the outcome as the exit status.

use std::path::Path;
use std::process::ExitCode;

use vsync_config::Config;

use crate::run::{DRAIN_TIMEOUT, DrainTimeout, Service, run_until};

/// A service binary's whole life. `name` is its `service.name`; `instance` gives
/// `service.instance.id` (the host id for tw-watcher); `build` connects and binds (everything
/// that must succeed before the service is ready), given the config and the bus URL.
pub async fn service_main<S, F, Fut>(
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
    let telemetry = match vsync_telemetry::init(name, &instance(&cfg), &cfg.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            return ExitCode::from(70);
        }
    };
    let signal = crate::shutdown_signal();
    let supervisor_gone = crate::supervisor_gone();
    let stop = async move {
        match supervisor_gone {
            Some(gone) => tokio::select! {
                _ = signal => {}
                _ = gone => {}
            },
            None => signal.await,
        }
    };
    let result = match build(cfg, bus_url).await {
        Ok(service) => run_until(service, stop, DRAIN_TIMEOUT).await,
        // a setting the service cannot run without (webhook-ingress without its secret):
        // a configuration error, told as such
        Err(e) if e.chain().any(|c| c.is::<vsync_config::ConfigError>()) => {
            tracing::error!(error = %e, error.cause_chain = ?e, "{name}: unusable configuration");
            eprintln!("{name}: {e:#}");
            return ExitCode::from(64);
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, error.cause_chain = ?e, "{name} failed");
            if e.downcast_ref::<DrainTimeout>().is_some() {
                // Tasks still running may hold the runtime open (a blocked `task` process):
                // flush the spans, then leave without waiting for them.
                drop(telemetry);
                std::process::exit(1);
            }
            ExitCode::FAILURE
        }
    }
}
