//! Where `up` keeps its own bus, identities and logs.

use std::path::PathBuf;

/// `$XDG_STATE_HOME/vikunja-sync` (default `~/.local/state/vikunja-sync`).
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("vikunja-sync")
}
