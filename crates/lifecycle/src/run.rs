//! Running a built service until the shutdown trigger, then draining it within a bound.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::notify::{notify_ready, notify_stopping};

/// How long a service may take to finish in-flight work after SIGTERM. Below the units'
/// `TimeoutStopSec=30s`, so the process still exits (and flushes its spans) by itself; what
/// was not finished is redelivered by JetStream (no message is acknowledged before its work
/// is done).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A service that runs until its token is cancelled, finishing in-flight work.
pub trait Service {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The service did not finish within the drain timeout after its shutdown signal.
#[derive(Debug, thiserror::Error)]
#[error("in-flight work did not finish within {0:?} of the shutdown signal")]
pub struct DrainTimeout(pub Duration);

/// Announces readiness, runs `service` until `shutdown` resolves (or the service ends on its
/// own), announces stopping, and waits at most `drain` for the service to finish; a service
/// still running then is abandoned with [`DrainTimeout`].
pub async fn run_until<S: Service>(
    service: S,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let mut run = std::pin::pin!(service.run(stop.clone()));
    notify_ready();
    tokio::select! {
        ended = &mut run => {
            notify_stopping();
            return ended;
        }
        _ = shutdown => {}
    }
    notify_stopping();
    stop.cancel();
    match tokio::time::timeout(drain, run).await {
        Ok(ended) => ended,
        Err(_) => Err(DrainTimeout(drain).into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Finishes as soon as its token is cancelled, or never.
    struct Stub {
        drains: bool,
    }

    impl Service for Stub {
        async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
            shutdown.cancelled().await;
            if !self.drains {
                std::future::pending::<()>().await;
            }
            Ok(())
        }
    }

    struct Failing;

    impl Service for Failing {
        async fn run(self, _: CancellationToken) -> anyhow::Result<()> {
            anyhow::bail!("lost the bus")
        }
    }

    #[tokio::test]
    async fn a_service_runs_until_the_trigger_and_then_drains() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(run_until(
            Stub { drains: true },
            async {
                let _ = rx.await;
            },
            DRAIN_TIMEOUT,
        ));
        assert!(!run.is_finished());
        tx.send(()).unwrap();
        run.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_service_still_busy_after_the_drain_timeout_is_abandoned() {
        let drain = Duration::from_millis(50);
        let started = std::time::Instant::now();
        let err = run_until(Stub { drains: false }, std::future::ready(()), drain)
            .await
            .unwrap_err();
        assert!(err.downcast_ref::<DrainTimeout>().is_some(), "{err:#}");
        assert!(started.elapsed() >= drain);
    }

    #[tokio::test]
    async fn a_service_that_fails_on_its_own_reports_its_error() {
        let err = run_until(Failing, std::future::pending(), DRAIN_TIMEOUT)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "lost the bus");
    }
}
