//! `vikunja-sync-demo`: see the library docs. `vikunja-sync demo` runs this program.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Quiet unless asked: the demo prints its own story on stdout.
    let _telemetry = std::env::var_os("RUST_LOG")
        .and_then(|_| vsync_telemetry::init("vikunja-sync-demo", "", &Default::default()).ok());
    match vikunja_sync_demo::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vikunja-sync-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}
