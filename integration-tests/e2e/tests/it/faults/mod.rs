//! The fault suite: what goes wrong in real life, injected on real parts (nats-server,
//! Taskwarrior, the Vikunja simulator's fault controls), and the promise that holds anyway:
//! every side converges with nothing lost, duplicated or wiped and no dead letter left. Each case
//! measures itself with `vsync_e2e::faults` (the one checker); `scripts/faults.sh` turns the
//! measurements into docs/FAULTS.md. One file per family of faults.

mod bus;
mod crashes;
mod creates;
mod listings;
mod outages;
mod passes;
mod stale_writes;
mod watcher;
mod webhooks;

use vsync_e2e::*;

/// Waits until every host shows a task titled `title`.
async fn everywhere(sys: &System, title: &'static str) {
    on_every_host(sys, title, move |t| s(t, "description") == title).await;
}

/// `full` when scripts/faults.sh runs the suite (`VSYNC_FAULTS_FULL=1`: the long cases at full
/// length, for the table), else `compressed` (the everyday suite stays fast).
fn full_length<T>(full: T, compressed: T) -> T {
    match std::env::var_os("VSYNC_FAULTS_FULL") {
        Some(v) if v == "1" => full,
        _ => compressed,
    }
}
