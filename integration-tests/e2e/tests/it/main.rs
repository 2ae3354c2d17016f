//! End-to-end tests: real nats-server, real `task`, the Vikunja simulator, every service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adoption;
mod adoption_syncall;
mod concurrency;
mod content;
mod doctor;
mod faults;
mod host_filter;
mod hosts;
mod ingress;
mod labels;
mod local_writes;
mod partitions;
mod reconcile;
mod replicas;
mod skeleton;
mod telemetry;
mod token;
mod tw3;
mod tw_to_vikunja;
mod up;
mod vikunja_edges;
mod vikunja_to_tw;
