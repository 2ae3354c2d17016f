//! The Taskwarrior hook program of vikunja-sync.
//!
//! The binary (`vikunja-sync-hook`) is linked into `<data>/hooks/` as `on-exit.vikunja-sync`
//! (and `on-add`/`on-modify` when asked; `vikunja-sync hook install` does that) and picks its
//! event from its own file name. It echoes what Taskwarrior expects on stdout, hands the
//! changed tasks to tw-watcher as one JSON datagram on a Unix socket, and falls back to the
//! spool when the socket does not take it (the wire format: `vsync-hook-wire`). It never fails
//! the user's command because of the sync, and it does no network I/O.
//!
//! std + serde only, so the hook starts in about a millisecond.

pub mod hook;
mod started;

pub use hook::run;
