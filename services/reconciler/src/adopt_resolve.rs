//! The user decides on a held match (`vikunja-sync adopt --link <uuid> <vikunja id>`,
//! `--separate <uuid>|<vikunja id>`): linked, the two are one task from now on; separated, the
//! task is synced as a task of its own. Either way it leaves the held list, and the hosts
//! holding it are told to release it.

use std::time::{Duration, Instant};

use vsync_bus::adoption::HeldTask;
use vsync_bus::control::host::Rekey;
use vsync_bus::reports::AdoptReport;
use vsync_model::TwTask;

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to answer.
const HOST_TIMEOUT: Duration = Duration::from_secs(30);

impl EventHandler {
    /// Local task `uuid` (held on one or more hosts) is Vikunja task `vikunja_id`.
    pub async fn adopt_link(&self, uuid: &str, vikunja_id: i64) -> Result<AdoptReport, SyncError> {
        let _one = self.adopting.lock().await;
        let started = Instant::now();
        let adoption = self.bus.adoption().await?;
        let holders: Vec<String> = adoption
            .held
            .iter()
            .filter(|h| h.uuid.as_deref() == Some(uuid))
            .filter_map(|h| h.host.clone())
            .collect();
        if holders.is_empty() && self.bus.load_state(uuid).await?.is_some() {
            return Err(SyncError::Invalid(format!(
                "{uuid} is synced already; only held tasks can be linked"
            )));
        }
        let task = self.api.get_task(vikunja_id).await?;
        let canonical = match self.linked_uuid(vikunja_id).await? {
            Some(c) => c,
            None => {
                let path = self.project_path(task.project_id()).await?;
                self.adopt_vikunja_task(uuid, &task, &path).await?;
                uuid.to_string()
            }
        };
        for host in &holders {
            if let Some(t) = self.host_task(host, uuid).await? {
                self.adopt_local(host, &t, &canonical).await?;
            }
            if canonical != uuid {
                let rekey = Rekey {
                    from: uuid.to_string(),
                    to: canonical.clone(),
                };
                self.bus.rekey(host, &[rekey], HOST_TIMEOUT).await?;
            }
            self.bus
                .release_held(host, &[uuid.to_string()], HOST_TIMEOUT)
                .await?;
        }
        self.unhold(|h| h.uuid.as_deref() == Some(uuid) || h.vikunja_id == Some(vikunja_id))
            .await?;
        Ok(AdoptReport {
            link: vec![(canonical, vikunja_id, task.title().to_string())],
            hosts: holders,
            took_ms: started.elapsed().as_millis() as u64,
            ..Default::default()
        })
    }

    /// `which` (a uuid held on hosts, or a held Vikunja id) is a task of its own: synced as new.
    pub async fn adopt_separate(&self, which: &str) -> Result<AdoptReport, SyncError> {
        let _one = self.adopting.lock().await;
        let started = Instant::now();
        let mut report = AdoptReport::default();
        if let Ok(id) = which.trim_start_matches('#').parse::<i64>() {
            self.unhold(|h| h.host.is_none() && h.vikunja_id == Some(id))
                .await?;
            if self.linked_uuid(id).await?.is_none() {
                let task = self.api.get_task(id).await?;
                let path = self.project_path(task.project_id()).await?;
                let uuid = uuid::Uuid::new_v4().to_string();
                self.adopt_vikunja_task(&uuid, &task, &path).await?;
                report
                    .create_in_taskwarrior
                    .push((id, task.title().to_string()));
            }
        } else {
            let adoption = self.bus.adoption().await?;
            for h in adoption
                .held
                .iter()
                .filter(|h| h.uuid.as_deref() == Some(which))
            {
                let Some(host) = &h.host else { continue };
                // Released, the host publishes it as a new task: it is created in Vikunja.
                self.bus
                    .release_held(host, &[which.to_string()], HOST_TIMEOUT)
                    .await?;
                report.hosts.push(host.clone());
                report
                    .create_in_vikunja
                    .push((which.to_string(), h.title.clone()));
            }
            self.unhold(|h| h.uuid.as_deref() == Some(which)).await?;
        }
        report.took_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// One task of `host`'s, as its `task export` shows it.
    async fn host_task(&self, host: &str, uuid: &str) -> Result<Option<TwTask>, SyncError> {
        let tasks = self.bus.host_tasks(host, HOST_TIMEOUT).await?;
        Ok(tasks
            .into_iter()
            .filter_map(|v| TwTask::from_value(v).ok())
            .find(|t| t.uuid() == uuid))
    }

    async fn unhold(&self, resolved: impl Fn(&HeldTask) -> bool) -> Result<(), SyncError> {
        self.bus
            .update_adoption(|a| a.held.retain(|h| !resolved(h)))
            .await?;
        Ok(())
    }
}
