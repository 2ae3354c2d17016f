//! The shutdown trigger: SIGTERM (systemd, `vikunja-sync up`) or SIGINT (Ctrl-C).

use tokio::signal::unix::{SignalKind, signal};

/// A future that resolves on SIGTERM or SIGINT. The handlers are installed when this is called
/// (inside the runtime), so call it before announcing readiness: a SIGTERM that arrives right
/// after `READY=1` must stop the service cleanly, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            _ = recv(term.as_mut()) => {},
            _ = recv(int.as_mut()) => {},
        }
        tracing::info!("shutdown signal received");
    }
}

/// Waits for the signal; forever when its handler could not be installed.
async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
