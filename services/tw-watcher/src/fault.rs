//! A point where the fault suite stops the watcher, compiled into debug builds only: a release
//! build, what is installed, has none. With `VSYNC_FAULT_WRITE=<dir>` in the environment and
//! `<dir>/armed` present, the first write of ours after that waits before it starts until
//! `<dir>/go` exists (its process id in `<dir>/caught/pid` meanwhile), makes the write, and
//! then stops for good where a crash leaves the most undone: Taskwarrior holds the write,
//! nothing of ours recorded it, its canonical state is not acknowledged. The test kills it.

/// Names the directory of the fault point.
#[cfg(debug_assertions)]
const WRITE_ENV: &str = "VSYNC_FAULT_WRITE";

/// A write caught by the fault point: once made, the watcher stops.
pub(crate) struct Caught;

impl Caught {
    /// Stops here until the process is killed.
    pub(crate) async fn stop(self) {
        tracing::warn!("fault point: stopped after a write");
        std::future::pending::<()>().await;
    }
}

/// The fault point before a write: `Some` when it caught this one (after `go`).
#[cfg(debug_assertions)]
pub(crate) async fn before_write() -> Option<Caught> {
    let dir = std::path::PathBuf::from(std::env::var_os(WRITE_ENV)?);
    // Armed, and not caught before (the directory is made once).
    if !dir.join("armed").exists() || std::fs::create_dir(dir.join("caught")).is_err() {
        return None;
    }
    // Renamed into place: the test reads a whole pid or none.
    let tmp = dir.join("caught/pid.tmp");
    std::fs::write(&tmp, std::process::id().to_string()).ok()?;
    std::fs::rename(&tmp, dir.join("caught/pid")).ok()?;
    tracing::warn!("fault point: waiting before a write");
    while !dir.join("go").exists() {
        // A file the test makes: there is nothing else to wait on.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Some(Caught)
}

/// Release builds: no fault point.
#[cfg(not(debug_assertions))]
pub(crate) async fn before_write() -> Option<Caught> {
    None
}
