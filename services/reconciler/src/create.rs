//! Creating a task in Vikunja (`PUT`) that canonical state has and Vikunja does not, and
//! linking it to its uuid.

use vsync_model::{VikunjaTask, vikunja};
use vsync_proto::{TaskFields, TaskState};

use crate::error::SyncError;
use crate::events::EventHandler;

impl EventHandler {
    /// Creates `state`'s task, with `fields`, in project `project_id`: what was sent and what
    /// Vikunja answered.
    pub(crate) async fn create(
        &self,
        state: &TaskState,
        fields: &TaskFields,
        project_id: i64,
    ) -> Result<(VikunjaTask, VikunjaTask), SyncError> {
        let sent = vikunja::apply(None, fields, project_id, &self.tags);
        let got = self.api.create_task(project_id, &sent).await?;
        self.bus.link(got.id(), &state.uuid).await?;
        self.remember_link(got.id(), &state.uuid).await;
        Ok((sent, got))
    }
}
