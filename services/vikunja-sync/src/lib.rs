//! The operator CLI's library: run every service of one machine as its own process ([`up`],
//! with its own nats-server from [`nats_server`] when no bus is configured), hook installation
//! ([`hook`]), the control commands ([`ctl`], [`status`], [`dead_letters`], [`hosts`]), and starting the demo program
//! ([`demo`]).

pub mod bus_identities;
pub mod config_check;
pub mod ctl;
pub mod dead_letters;
pub mod demo;
pub mod doctor;
pub mod hook;
pub mod hosts;
pub mod nats_server;
pub mod programs;
pub mod state_dir;
pub mod status;
pub mod syncall;
pub mod up;
