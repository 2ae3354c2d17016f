//! The simulator against real HTTP: one test per behaviour of the reference it must reproduce.
#![allow(clippy::unwrap_used)]

mod api;
mod behaviour;
mod caldav;
mod delivery_faults;
mod edges;
mod faults;
mod helpers;
mod offline;
mod pagination;
mod server;
mod tokens;
mod v2;
mod webhooks;
