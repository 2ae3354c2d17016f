//! The demo system: a temporary nats-server, the Vikunja simulator, every service and any
//! number of throw-away Taskwarrior hosts, all on this machine ([`System`]). The
//! `vikunja-sync-demo` program (what `vikunja-sync demo` runs) moves one change each way
//! through it ([`run`]); the end-to-end tests and benchmarks build on it too.
//!
//! A test fixture: it links the simulator and the test harness, so no product crate depends
//! on it.

mod demo;
mod running;
mod system;

pub use demo::{run, run_with};
pub use running::Running;
pub use system::{Options, System};
