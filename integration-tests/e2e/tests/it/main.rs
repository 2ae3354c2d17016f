//! End-to-end tests: real nats-server, real `task`, the Vikunja simulator, every service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod skeleton;
mod vikunja_to_tw;
