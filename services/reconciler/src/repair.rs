//! Repair: rebuild the correlations from canonical state, and check every host's `vikunja_id`s
//! against it.

use std::time::Duration;

use vsync_bus::reports::RepairReport;
use vsync_model::TwTask;

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to send its tasks.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(60);

impl EventHandler {
    /// Rewrites every correlation canonical state disagrees with, then compares each host's
    /// tasks with canonical state (a host that does not answer is reported, not checked).
    pub async fn repair(&self) -> Result<RepairReport, SyncError> {
        let mut r = RepairReport::default();
        let states = self.bus.all_states().await?;
        for s in states.iter().filter(|s| s.vikunja_id > 0) {
            r.links_checked += 1;
            let current = self.bus.linked_uuid(s.vikunja_id).await?;
            if current.as_deref() != Some(s.uuid.as_str()) {
                self.bus.link(s.vikunja_id, &s.uuid).await?;
                self.remember_link(s.vikunja_id, &s.uuid).await;
                r.links_fixed += 1;
            }
        }
        for host in self.bus.hosts().await? {
            let tasks = match self.bus.host_tasks(&host, EXPORT_TIMEOUT).await {
                Ok(tasks) => tasks,
                Err(e) => {
                    r.unreachable.push((host, e.to_string()));
                    continue;
                }
            };
            for t in tasks.into_iter().filter_map(|v| TwTask::from_value(v).ok()) {
                let Some(local) = t.vikunja_id() else {
                    continue;
                };
                match states.iter().find(|s| s.uuid == t.uuid()) {
                    Some(s) if s.vikunja_id != local => {
                        r.mismatches
                            .push((host.clone(), t.uuid().to_string(), local, s.vikunja_id))
                    }
                    Some(_) => {}
                    None => r.unknown.push((host.clone(), t.uuid().to_string(), local)),
                }
            }
        }
        Ok(r)
    }
}
