//! `vikunja-sync status`: what the bus knows (see [`vsync_bus::StatusReport`]).

/// Recent conflicts shown.
const CONFLICTS: u64 = 10;

/// A status report, as text.
pub async fn report(bus: &vsync_bus::Bus) -> anyhow::Result<String> {
    Ok(bus.status(CONFLICTS).await?.to_string())
}
