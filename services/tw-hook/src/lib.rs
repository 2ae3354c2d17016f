//! The Taskwarrior hook program of vikunja-sync, and the small library both sides of the
//! hook <-> tw-watcher hand-over share.
//!
//! The binary (`vikunja-sync-hook`) is linked into `<data>/hooks/` as `on-add.vikunja-sync`,
//! `on-modify.vikunja-sync` and `on-exit.vikunja-sync` and picks its event from its own file
//! name. It echoes what Taskwarrior expects on stdout, hands the changed tasks to tw-watcher as
//! one JSON datagram on a Unix socket ([`handover`]), and falls back to a spool file ([`spool`])
//! when the socket does not take it. It never fails the user's command because of the
//! sync, and it does no network I/O.
//!
//! This crate is std + serde only so the hook starts in about a millisecond; the watcher uses
//! [`HookMessage`], the path helpers and [`drain_spool`].

pub mod handover;
pub mod hook;
pub mod install;
pub mod message;
pub mod paths;
pub mod spool;

pub use handover::{HandOver, MAX_DATAGRAM, hand_over};
pub use hook::{HookKind, run};
pub use install::{
    DEFAULT_EVENTS, HOOK_SUFFIX, InstallAction, InstallReport, install, install_events,
    taskrc_lines, uninstall,
};
pub use message::{HookEvent, HookMessage, PROTOCOL_VERSION, now_us};
pub use paths::{
    SOCKET_ENV, SPOOL_ENV, STATE_DIR_NAME, resolve_socket_path, resolve_spool_path, socket_path,
    spool_path,
};
pub use spool::{MalformedLine, SpoolDrain, append_to_spool, drain_spool, drain_spool_report};
