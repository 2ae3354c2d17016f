//! The operator CLI's library: run every service of one machine in one process ([`local`]),
//! the self-contained demo ([`demo`]), hook installation ([`hook`]) and `status` ([`status`]).
//! End-to-end tests drive the same code.

pub mod ctl;
pub mod demo;
pub mod hook;
pub mod local;
pub mod status;
