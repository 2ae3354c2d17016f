//! reconciler: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Merges task changes from Vikunja and Taskwarrior")]
struct Cli {
    /// Config file (docs/ARCHITECTURE.md §2).
    #[arg(long, env = "VIKUNJA_SYNC_CONFIG")]
    config: Option<PathBuf>,
}

// Returns freed memory to the system, which glibc's malloc does not (docs/BENCHMARKS.md §8).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    vsync_lifecycle::service_main(
        "reconciler",
        cli.config.as_deref(),
        |_| String::new(),
        |cfg, bus| async move { reconciler::App::build(&cfg, &bus, "reconciler").await },
    )
    .await
}
