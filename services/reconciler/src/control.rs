//! The reconciler's control endpoints (request/reply over the bus, queue group `reconciler`), so
//! `vikunja-sync reconcile|repair|adopt` work from any host on the bus.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vsync_bus::control::{
    AdoptRequest, HostReport, RECONCILE_ALL, ReconcileRequest, gather, host_subject, hosts,
};
use vsync_model::TwTask;

use crate::reconcile::ReconcileReport;
use crate::sync::Reconciler;

/// The answer to `reconcile`: Vikunja's side and every host's.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReconcileReply {
    pub vikunja: Option<ReconcileReport>,
    pub hosts: Vec<HostReport>,
    pub error: String,
}

impl std::fmt::Display for ReconcileReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.error.is_empty() {
            writeln!(f, "reconcile failed: {}", self.error)?;
        }
        if let Some(v) = &self.vikunja {
            write!(f, "{v}")?;
        }
        for h in &self.hosts {
            writeln!(f, "{h}")?;
        }
        Ok(())
    }
}

/// The answer to `repair`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RepairReport {
    /// Correlations (Vikunja id -> uuid) rewritten from canonical state.
    pub links_fixed: usize,
    pub links_checked: usize,
    /// Host tasks whose `vikunja_id` disagrees with canonical state: (host, uuid, local id, canonical id).
    pub mismatches: Vec<(String, String, i64, i64)>,
    /// Host tasks with a `vikunja_id` but no canonical state (run `adopt`): (host, uuid, id).
    pub unknown: Vec<(String, String, i64)>,
    pub error: String,
}

impl std::fmt::Display for RepairReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.error.is_empty() {
            writeln!(f, "repair failed: {}", self.error)?;
        }
        writeln!(
            f,
            "repair: {} correlation(s) checked, {} rewritten",
            self.links_checked, self.links_fixed
        )?;
        for (host, uuid, local, canonical) in &self.mismatches {
            writeln!(
                f,
                "  {host} {uuid}: vikunja_id {local} locally, {canonical} in canonical state (the host is corrected on its next apply)"
            )?;
        }
        for (host, uuid, id) in &self.unknown {
            writeln!(
                f,
                "  {host} {uuid}: vikunja_id {id} but no canonical state (run `vikunja-sync adopt`)"
            )?;
        }
        Ok(())
    }
}

impl Reconciler {
    /// Full reconcile of Vikunja, then every host's.
    pub async fn reconcile_all(
        &self,
        req: &ReconcileRequest,
        concurrency: usize,
    ) -> ReconcileReply {
        let mut reply = ReconcileReply::default();
        match self
            .reconcile_vikunja(req.full, req.project.as_deref(), concurrency)
            .await
        {
            Ok(r) => reply.vikunja = Some(r),
            Err(e) => reply.error = e.to_string(),
        }
        match self.ask_hosts_to_reconcile().await {
            Ok(h) => reply.hosts = h,
            Err(e) => reply.error.push_str(&e.to_string()),
        }
        reply
    }

    async fn ask_hosts_to_reconcile(&self) -> Result<Vec<HostReport>, vsync_bus::BusError> {
        let expected = hosts(&self.bus).await?.len();
        let replies = gather(
            &self.bus,
            RECONCILE_ALL,
            Vec::new(),
            expected,
            Duration::from_secs(120),
        )
        .await?;
        let mut out: Vec<HostReport> = replies
            .iter()
            .filter_map(|m| serde_json::from_slice(&m.payload).ok())
            .collect();
        out.sort_by(|a, b| a.host.cmp(&b.host));
        Ok(out)
    }

    /// Rebuilds the correlations from canonical state and checks every host's `vikunja_id`s.
    pub async fn repair(&self) -> RepairReport {
        let mut r = RepairReport::default();
        if let Err(e) = self.repair_inner(&mut r).await {
            r.error = e.to_string();
        }
        r
    }

    async fn repair_inner(&self, r: &mut RepairReport) -> Result<(), crate::SyncError> {
        let states = self.bus.all_states().await?;
        for s in states.iter().filter(|s| s.vikunja_id > 0) {
            r.links_checked += 1;
            let key = format!("vikunja.task.{}", s.vikunja_id);
            let current = self.bus.links().get(&key).await.ok().flatten();
            if current.as_deref() != Some(s.uuid.as_bytes()) {
                let _ = self.bus.links().put(&key, s.uuid.clone().into()).await;
                self.remember_link(s.vikunja_id, &s.uuid).await;
                r.links_fixed += 1;
            }
        }
        for host in hosts(&self.bus).await? {
            let reply = gather(
                &self.bus,
                &host_subject(&host, "export"),
                Vec::new(),
                1,
                Duration::from_secs(60),
            )
            .await?;
            let Some(tasks) = reply
                .first()
                .and_then(|m| serde_json::from_slice::<Vec<serde_json::Value>>(&m.payload).ok())
            else {
                continue;
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
        Ok(())
    }
}

/// Answers one control request.
pub async fn answer(
    sync: Arc<Reconciler>,
    msg: vsync_bus::async_nats::Message,
    concurrency: usize,
) {
    let Some(reply) = msg.reply.clone() else {
        return;
    };
    let verb = msg.subject.rsplit('.').next().unwrap_or("").to_string();
    let body = match verb.as_str() {
        "reconcile" => {
            let req: ReconcileRequest = serde_json::from_slice(&msg.payload).unwrap_or_default();
            serde_json::to_vec(&sync.reconcile_all(&req, concurrency).await)
        }
        "repair" => serde_json::to_vec(&sync.repair().await),
        "adopt" => {
            let req: AdoptRequest = serde_json::from_slice(&msg.payload).unwrap_or_default();
            match sync.adopt(&req, concurrency).await {
                Ok(r) => serde_json::to_vec(&serde_json::json!({"report": r})),
                Err(e) => serde_json::to_vec(&serde_json::json!({"error": e.to_string()})),
            }
        }
        other => {
            serde_json::to_vec(&serde_json::json!({"error": format!("unknown request {other:?}")}))
        }
    };
    let body = body.unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()).into_bytes());
    if let Err(e) = sync.bus.client().publish(reply, body.into()).await {
        tracing::warn!(error = %e, "cannot answer a control request");
    }
}
