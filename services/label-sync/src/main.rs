//! label-sync: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Keeps Vikunja labels in step with Taskwarrior tags")]
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
        "label-sync",
        cli.config.as_deref(),
        |_| String::new(),
        |cfg, bus| async move { label_sync::App::build(&cfg, &bus, "label-sync").await },
    )
    .await
}
