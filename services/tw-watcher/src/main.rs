//! tw-watcher: see the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Syncs one Taskwarrior host with the bus")]
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
        "tw-watcher",
        cli.config.as_deref(),
        |cfg| cfg.taskwarrior.host(),
        |cfg, bus| async move {
            tw_watcher::App::build(
                &cfg,
                &bus,
                &format!("tw-watcher@{}", cfg.taskwarrior.host()),
            )
            .await
        },
    )
    .await
}
