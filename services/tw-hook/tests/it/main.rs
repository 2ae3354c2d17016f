//! Integration tests of the hook: with the real `task` binary in throw-away data dirs, the hook
//! binary fed directly, and the spool under concurrent writers.
#![allow(clippy::unwrap_used)]

mod binary;
mod spool;
mod support;
mod taskwarrior;
