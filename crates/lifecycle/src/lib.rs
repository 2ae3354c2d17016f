//! The life of a service process, the same for every binary: read the config, start
//! telemetry, install the SIGTERM/SIGINT handlers ([`shutdown_signal`]), build, tell systemd
//! it is ready (`READY=1`, [`notify`]), run until the signal, tell it the service is stopping
//! (`STOPPING=1`), and give in-flight work a bounded time to finish ([`run_until`],
//! [`DRAIN_TIMEOUT`]). A service `vikunja-sync up` started also stops when `up` is gone
//! ([`supervisor_gone`]).

pub mod notify;
mod run;
mod service_main;
mod signal;
mod supervised;

pub use notify::{notify_ready, notify_stopping};
pub use run::{DRAIN_TIMEOUT, DrainTimeout, Service, run_until};
pub use service_main::service_main;
pub use signal::shutdown_signal;
pub use supervised::{STOP_ON_STDIN_EOF_ENV, supervisor_gone};
