//! Switching over from syncall (`vikunja-sync adopt --from-syncall DIR`): syncall's pairs name a
//! Taskwarrior uuid and a CalDAV UID; Vikunja serves each task over CalDAV under its UID, so one
//! listing per synced project tells which Vikunja task each UID is (docs/MIGRATING.md). A pair
//! whose UID names exactly one task links like a `vikunja_id` UDA would; the rest fall back to
//! project + title. And the webhooks on synced projects that point anywhere but ours.

use std::collections::{BTreeMap, HashMap};

use vsync_bus::control::SyncallLink;
use vsync_bus::reports::AdoptReport;

use crate::error::SyncError;
use crate::events::EventHandler;
use crate::webhooks::Registrar;

impl EventHandler {
    /// Taskwarrior uuid -> Vikunja task id for each pair whose CalDAV UID names exactly one
    /// Vikunja task of a synced project; what could not be mapped is counted in `report`.
    pub(crate) async fn syncall_ids(
        &self,
        links: &[SyncallLink],
        report: &mut AdoptReport,
    ) -> Result<HashMap<String, i64>, SyncError> {
        let mut ids = HashMap::new();
        if links.is_empty() {
            return Ok(ids);
        }
        let username = self.api.current_username().await?;
        let projects = self.api.projects().await?;
        let mut by_uid: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for id in crate::webhooks::synced_projects(&projects, &self.adopt_settings.only) {
            for t in self.api.caldav_tasks(id, &username).await? {
                by_uid.entry(t.uid).or_default().push(t.task_id);
            }
        }
        for l in links {
            match by_uid.get(&l.caldav_uid).map(Vec::as_slice) {
                Some([id]) => {
                    ids.insert(l.uuid.clone(), *id);
                }
                Some(_) => report.syncall_unmatched.push(format!(
                    "{} -> {}: the UID names several Vikunja tasks",
                    l.uuid, l.caldav_uid
                )),
                None => report.syncall_unmatched.push(format!(
                    "{} -> {}: no Vikunja task of a synced project has this UID",
                    l.uuid, l.caldav_uid
                )),
            }
        }
        report.syncall_matched = ids.len();
        Ok(ids)
    }

    /// Lists the webhooks on synced projects that point anywhere but ours into `report`, and
    /// removes them when `remove` (not in a dry run).
    pub(crate) async fn foreign_webhooks(&self, report: &mut AdoptReport, remove: bool) {
        let registrar = Registrar::new(
            self.adopt_settings.webhook_url.clone(),
            None,
            self.adopt_settings.only.clone(),
        );
        let hooks = match registrar.foreign_webhooks(&self.api).await {
            Ok(h) => h,
            Err(e) => {
                report
                    .foreign_webhooks
                    .push(format!("cannot list webhooks: {e}"));
                return;
            }
        };
        report.foreign_webhooks = hooks
            .iter()
            .map(|h| {
                format!(
                    "project {} webhook {} -> {}",
                    h.project_id, h.id, h.target_url
                )
            })
            .collect();
        if remove && !report.dry_run && !hooks.is_empty() {
            match registrar.remove_webhooks(&self.api, &hooks).await {
                Ok(()) => report.foreign_webhooks_removed = true,
                Err(e) => report
                    .foreign_webhooks
                    .push(format!("cannot remove them: {e}")),
            }
        }
    }
}
