//! The hook <-> tw-watcher wire format, shared by the hook program (`vikunja-sync-hook`) and
//! tw-watcher: the one message ([`HookMessage`], one JSON line), where the socket and the
//! spool live ([`paths`]), the hand-over (one non-blocking datagram, [`handover`]), the spool
//! both sides lock ([`spool`]), the hook file names ([`HookKind`]), and how Taskwarrior's own
//! JSON is read ([`tw_json`]).
//!
//! std + serde only, no runtime: the hook links it and starts in about a millisecond.

pub mod handover;
pub mod kind;
pub mod message;
pub mod paths;
pub mod spool;
pub mod tw_json;

pub use handover::{HandOver, MAX_DATAGRAM, hand_over, nudge, send_to_watcher};
pub use kind::{HOOK_SUFFIX, HookKind};
pub use message::{HookEvent, HookMessage, PROTOCOL_VERSION, now_us};
pub use paths::{
    SOCKET_ENV, SPOOL_ENV, STATE_DIR_NAME, resolve_socket_path, resolve_spool_path, socket_path,
    spool_path,
};
pub use spool::{MalformedLine, SpoolDrain, append_to_spool, drain_spool, drain_spool_report};
