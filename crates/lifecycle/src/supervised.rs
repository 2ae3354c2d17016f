//! A service started by `vikunja-sync up` stops when `up` is gone, even when `up` was killed
//! with no chance to stop it: `up` holds the write end of the service's stdin, which the
//! kernel closes however `up` ends.

use std::io::Read as _;

/// Set (to anything) by `up` for its services: stop when stdin reaches its end.
pub const STOP_ON_STDIN_EOF_ENV: &str = "VIKUNJA_SYNC_STOP_ON_STDIN_EOF";

/// When this process is supervised that way, a future that resolves once stdin is closed.
pub fn supervisor_gone() -> Option<impl Future<Output = ()> + Send + 'static> {
    std::env::var_os(STOP_ON_STDIN_EOF_ENV)?;
    let (gone, rx) = tokio::sync::oneshot::channel::<()>();
    // A plain thread, not Tokio's stdin: its blocking read could hold up the runtime's
    // shutdown, while a thread never keeps the process from exiting.
    let watcher = std::thread::Builder::new()
        .name("supervisor-watch".into())
        .spawn(move || {
            let mut buf = [0u8; 64];
            loop {
                match std::io::stdin().read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = gone.send(());
        });
    if let Err(e) = watcher {
        tracing::warn!(error = %e, "cannot watch the supervising process");
        return None;
    }
    Some(async move {
        let _ = rx.await;
        tracing::warn!("the supervising process is gone; stopping");
    })
}
