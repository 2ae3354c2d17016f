//! tw-watcher: one per Taskwarrior host. It hands each local change (from the hook, through
//! [`intake`]) to the bus as a task event, with the host's previous state of the task as the
//! diff base, and applies canonical state to the local Taskwarrior with one hooks-off
//! `task import` of the complete tasks that changed, verified by re-export.

pub mod intake;
mod mirror;
mod socket_file;
mod watcher;

pub use watcher::{App, Watcher};
