//! The simulator against real HTTP: one test per behaviour of the reference it must reproduce.
#![allow(clippy::unwrap_used)]

mod api;
mod behaviour;
mod delivery_faults;
mod faults;
mod helpers;
mod offline;
mod pagination;
mod webhooks;
