//! What adoption holds back on Vikunja's side: an unlinked Vikunja task is synced only once
//! Vikunja has been adopted, unless adoption held it, left it behind (done before the history
//! bound) or it is outside the synced projects (docs/ARCHITECTURE.md §5 item 10).

use vsync_model::VikunjaTask;

use crate::error::SyncError;
use crate::events::EventHandler;

/// Whether an unlinked Vikunja task is synced ([`EventHandler::vikunja_task_gate`]).
pub(crate) enum Gate {
    Sync,
    /// Vikunja has not been adopted yet.
    BeforeAdoption,
    /// Held by adoption, left behind by it, or outside the synced projects.
    Skip,
}

impl EventHandler {
    /// Whether a Vikunja task may be synced: one linked already, or one adoption does not hold
    /// back. Before Vikunja is adopted nothing unlinked is; a task there at adoption and not
    /// carried over (held, or done before the history bound) stays unsynced; so does a task
    /// outside the synced projects.
    pub(crate) async fn vikunja_task_gate(&self, task: &VikunjaTask) -> Result<Gate, SyncError> {
        if self.linked_uuid(task.id()).await?.is_some() {
            return Ok(Gate::Sync);
        }
        let a = self.bus.adoption().await?;
        if a.vikunja_at_us.is_none() {
            return Ok(Gate::BeforeAdoption);
        }
        let there_at_adoption = task.created().unwrap_or(0) * 1_000_000 <= a.vikunja_horizon_us;
        if a.holds_vikunja(task.id()) || (there_at_adoption && task.done()) {
            return Ok(Gate::Skip);
        }
        let path = self.project_path(task.project_id()).await?;
        Ok(match self.adopt_settings.scope.contains(&path) {
            true => Gate::Sync,
            false => Gate::Skip,
        })
    }
}
