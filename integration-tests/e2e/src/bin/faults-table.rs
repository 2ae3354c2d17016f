//! `faults-table <measurements.jsonl>`: prints docs/FAULTS.md from the fault suite's
//! measurements (scripts/faults.sh runs it).

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .context("usage: faults-table <measurements.jsonl>")?;
    let lines = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.to_string_lossy()))?;
    print!("{}", vsync_e2e::faults::table(&lines));
    Ok(())
}
