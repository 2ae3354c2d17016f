//! `vikunja-sync dead-letters [list|replay]`: the work that failed for good, each with its
//! number, where it failed and why; `replay SEQ` (or `--all`) asks the reconciler to redo it
//! once the cause is fixed (see `reconciler`'s `replay`).

use std::fmt::Write as _;
use std::time::Duration;

use vsync_bus::Bus;
use vsync_bus::control::ReplayRequest;
use vsync_bus::reports::ReplayReport;

/// How long a replay may take (each dead letter's work is done again).
const REPLAY_TIMEOUT: Duration = Duration::from_secs(300);

/// Every dead letter, as text.
pub async fn list(bus: &Bus) -> anyhow::Result<String> {
    let letters = bus.dead_letters().await?;
    if letters.is_empty() {
        return Ok("no dead letters\n".into());
    }
    let mut out = String::new();
    for d in &letters {
        let l = &d.letter;
        let at = vsync_model::dates::format_vikunja(Some(l.at_us / 1_000_000));
        writeln!(out, "#{}  {at}  {}  {}", d.seq, l.stage, l.subject)?;
        writeln!(out, "    {}", l.reason)?;
    }
    writeln!(
        out,
        "{} dead letter(s); `vikunja-sync dead-letters replay SEQ|--all` redoes them",
        letters.len()
    )?;
    Ok(out)
}

/// Asks the reconciler to replay dead letter `seq`, or every one.
pub async fn replay(bus: &Bus, seq: Option<u64>) -> anyhow::Result<ReplayReport> {
    bus.replay_dead_letters(ReplayRequest { seq }, REPLAY_TIMEOUT)
        .await
        .map_err(crate::ctl::explain)
}
