//! The simulator against real HTTP: one test per behaviour of the reference it must reproduce.
#![allow(clippy::unwrap_used)]

mod api;
mod behaviour;
mod faults;
mod helpers;
mod webhooks;
