//! The operator CLI's library: run every service of one machine ([`local`], with its own
//! nats-server from [`nats_server`] when no bus is configured), hook installation ([`hook`]),
//! the control commands ([`ctl`], [`status`]), and starting the demo program ([`demo`]).

pub mod ctl;
pub mod demo;
pub mod hook;
pub mod local;
pub mod nats_server;
pub mod programs;
pub mod status;
