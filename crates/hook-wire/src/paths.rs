//! Where the watcher socket and the spool live.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the socket path.
pub const SOCKET_ENV: &str = "VIKUNJA_SYNC_SOCKET";
/// Environment variable that overrides the spool path.
pub const SPOOL_ENV: &str = "VIKUNJA_SYNC_SPOOL";
/// Directory under the Taskwarrior data dir that holds our state.
pub const STATE_DIR_NAME: &str = ".vikunja-sync";

/// Default socket path: `<data>/.vikunja-sync/watcher.sock`.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_DIR_NAME).join("watcher.sock")
}

/// Default spool path: `<data>/.vikunja-sync/spool.jsonl`.
pub fn spool_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_DIR_NAME).join("spool.jsonl")
}

/// `$VIKUNJA_SYNC_SOCKET` if set and non-empty, else [`socket_path`].
pub fn resolve_socket_path(data_dir: &Path) -> PathBuf {
    env_path(SOCKET_ENV).unwrap_or_else(|| socket_path(data_dir))
}

/// `$VIKUNJA_SYNC_SPOOL` if set and non-empty, else [`spool_path`].
pub fn resolve_spool_path(data_dir: &Path) -> PathBuf {
    env_path(SPOOL_ENV).unwrap_or_else(|| spool_path(data_dir))
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v: &OsString| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_live_under_the_state_dir() {
        let data = Path::new("/home/a/.task");
        assert_eq!(
            socket_path(data),
            Path::new("/home/a/.task/.vikunja-sync/watcher.sock")
        );
        assert_eq!(
            spool_path(data),
            Path::new("/home/a/.task/.vikunja-sync/spool.jsonl")
        );
    }
}
