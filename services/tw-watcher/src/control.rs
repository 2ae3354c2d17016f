//! Control requests ([`HostRequest`]: export, re-key, reconcile, info; this host's own and the
//! reconcile every host answers) and the host reconcile pass, which also runs on
//! a timer: it catches what no hook reported (commands run with hooks off, `task undo` on TW 3,
//! changes made while the watcher was down) and what this host should show but does not.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tracing::Instrument;
use vsync_bus::control::{HostRequest, Incoming, Rekey, Reply};
use vsync_bus::reports::{HostInfo, HostReport};
use vsync_model::{TwTask, tw};
use vsync_proto::TaskState;

use crate::watcher::Watcher;

/// How long canonical state read ahead for the pass after adoption may be used.
const PREFETCH_FRESH: Duration = Duration::from_secs(30);

impl Watcher {
    /// Answers one control request.
    pub(crate) async fn on_control(&mut self, req: Incoming<HostRequest>) {
        let (request, responder) = req.into_parts();
        let span = responder.span();
        // Adopted, or tasks released: a pass right after the answer publishes and applies
        // what was held back.
        let mut pass = false;
        let sent = async {
            match request {
                Ok(HostRequest::Reconcile) => responder.answer(self.reconcile().await).await,
                Ok(HostRequest::Export) => {
                    // A new adoption: what an earlier one read is stale.
                    if let Some((_, read)) = self.prefetched.take() {
                        read.abort();
                    }
                    let tasks = match self.export_all().await {
                        Ok((stamp, tasks)) => {
                            // Kept while not adopted: adoption re-keys and runs a pass next.
                            if !self.adoption.adopted() {
                                self.last_export = Some((stamp, tasks.clone()));
                            }
                            // Adoption and repair see only the tasks this host syncs.
                            Ok(self
                                .exported(tasks)
                                .into_iter()
                                .map(|t| serde_json::Value::Object(t.0))
                                .collect::<Vec<_>>())
                        }
                        Err(e) => Err(e),
                    };
                    responder.answer(tasks).await
                }
                Ok(HostRequest::Rekey(r)) => responder.answer(self.rekey(&r).await).await,
                Ok(HostRequest::Adopted(held)) => {
                    let r = self.adopted(&held);
                    pass = r == Ok(true);
                    responder.answer(r.map(|_| ())).await
                }
                Ok(HostRequest::Release(uuids)) => {
                    let r = self.release(&uuids);
                    pass = r.is_ok();
                    responder.answer(r).await
                }
                Ok(HostRequest::Info) => responder.reply(Reply::Ok(self.info())).await,
                Err(e) => responder.reply::<()>(Reply::Error(e)).await,
            }
        }
        .instrument(span)
        .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "cannot answer a control request");
        }
        if pass && let Err(e) = self.reconcile().await {
            tracing::warn!(error = %e, "reconcile after adoption failed");
        }
    }

    /// What this host is, from what it holds already: `vikunja-sync hosts` asks every host
    /// at once and must not wait on a `task` run.
    fn info(&self) -> HostInfo {
        HostInfo {
            host: self.host.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            taskwarrior: self.taskwarrior_version.clone(),
            adopted: self.adoption.adopted(),
            tasks: self.mirror.count(),
        }
    }

    /// Says once per start, until adopted, that this host waits to be adopted.
    pub(crate) async fn say_hello(&mut self) {
        if self.adoption.adopted() || self.hello_said {
            return;
        }
        let hello = vsync_bus::Hello {
            tasks: self.mirror.count(),
        };
        match self
            .bus
            .say_hello(&self.host, self.started_us, &hello)
            .await
        {
            Ok(()) => {
                tracing::info!("waiting to be adopted");
                self.hello_said = true;
            }
            Err(e) => tracing::warn!(error = %e, "cannot ask to be adopted yet"),
        }
    }

    /// Adopted: sync from now on, except the held tasks. They leave the mirror, so that once
    /// released they are published as new.
    /// Whether anything changed (adopted anew, or other tasks held): then a pass follows.
    fn adopted(&mut self, held: &[String]) -> Result<bool, String> {
        if self.adoption.adopted() && self.adoption.holds_exactly(held) {
            return Ok(false); // told again (a second adoption found nothing new)
        }
        for u in held {
            self.mirror.remove(u).map_err(|e| e.to_string())?;
        }
        self.adoption
            .adopt(held, vsync_model::dates::now_us())
            .map_err(|e| format!("cannot record the adoption: {e}"))?;
        tracing::info!(held = held.len(), "adopted");
        Ok(true)
    }

    fn release(&mut self, uuids: &[String]) -> Result<(), String> {
        let released = self
            .adoption
            .release(uuids)
            .map_err(|e| format!("cannot record the release: {e}"))?;
        tracing::info!(released = released.len(), "held tasks released");
        Ok(())
    }

    /// Each local task `from` is the task known everywhere else as `to` (first adoption matched
    /// them): retire the `from`s here in one write; the `to`s arrive through canonical state.
    /// The mirror keeps the retired copies, so no pass takes them for local changes.
    async fn rekey(&mut self, rekeys: &[Rekey]) -> Result<(), String> {
        let adopting = !self.adoption.adopted();
        if adopting {
            // Adoption wrote every state first and says "adopted" next: read them meanwhile.
            // (An adopted host applies states as they come: one read now could be older than
            // what it applies before its pass.)
            let bus = self.bus.clone();
            let read = tokio::spawn(async move { bus.all_states().await });
            self.prefetched = Some((Instant::now(), read));
        }
        let from: HashSet<&str> = rekeys.iter().map(|r| r.from.as_str()).collect();
        // One whole export (usually the one adoption just read): on Taskwarrior 3 a filter of
        // hundreds of uuids costs far more than reading everything.
        let (_, mut all) = self.export_all().await.map_err(|e| e.to_string())?;
        let mut retired = Vec::with_capacity(from.len());
        // Its end given, not left to Taskwarrior: the copies kept show what the file will.
        let now = vsync_model::dates::format_tw(vsync_model::dates::now_us() / 1_000_000);
        for t in all.iter_mut().filter(|t| from.contains(t.uuid())) {
            t.0.insert("status".into(), serde_json::json!("deleted"));
            t.0.entry("end").or_insert_with(|| serde_json::json!(now));
            retired.push(t.clone());
        }
        self.write_tasks(&retired)
            .await
            .map_err(|e| e.to_string())?;
        for t in retired {
            if let Err(e) = self.mirror.set(t) {
                tracing::error!(error = %e, "cannot persist the mirror");
            }
        }
        // What the files hold now, for the pass that follows adoption: the export with our
        // write in it (our write's stamp, as `verified` keeps it).
        if adopting {
            self.last_export = Some((self.tw.data_stamp(), all));
        }
        Ok(())
    }

    /// Compares one `task export` with the mirror (local changes no hook reported) and with
    /// canonical state (what this host should show), publishing the former and importing the latter.
    pub(crate) async fn reconcile(&mut self) -> Result<HostReport, String> {
        let started = Instant::now();
        let mut report = HostReport {
            host: self.host.clone(),
            ..Default::default()
        };
        self.reconcile_inner(&mut report).await?;
        report.took_ms = started.elapsed().as_millis() as u64;
        if report.published + report.applied > 0 {
            tracing::info!(
                published = report.published,
                applied = report.applied,
                "reconciled"
            );
        }
        Ok(report)
    }

    async fn reconcile_inner(&mut self, report: &mut HostReport) -> Result<(), String> {
        if !self.adoption.adopted() {
            return Ok(()); // nothing is synced before adoption
        }
        // Right after adoption the export it read is used again: no `task` run.
        let stamp = self.tw.data_stamp();
        let cached = self
            .last_export
            .as_ref()
            .is_some_and(|(at, _)| *at == stamp);
        let (local, published) = self.check_all_files().await.map_err(|e| e.to_string())?;
        report.task_runs += usize::from(!cached);
        report.exported = local.len();
        report.published = published.len();
        let states = match self.prefetched.take() {
            Some((at, read)) if at.elapsed() < PREFETCH_FRESH => read.await.ok(),
            Some((_, read)) => {
                read.abort();
                None
            }
            None => None,
        };
        let states = match states {
            Some(Ok(states)) => states,
            _ => self.bus.all_states().await.map_err(|e| e.to_string())?,
        };
        tracing::debug!(states = states.len(), "reconcile: compare");
        let by_uuid: HashMap<&str, &TwTask> = local.iter().map(|t| (t.uuid(), t)).collect();
        // A task just published waits for canonical state to merge it (the event loop applies it).
        let targets: Vec<(TaskState, TwTask)> = states
            .iter()
            .filter(|s| !published.contains(&s.uuid))
            .filter_map(|s| {
                let local = by_uuid.get(s.uuid.as_str()).copied();
                // outside the host's filter (`scope`): not imported, not updated
                if !self.takes(s, local) {
                    return None;
                }
                tw::apply(s, local).map(|t| (s.clone(), t))
            })
            .collect();
        if !targets.is_empty() {
            let written = self.write(targets).await;
            report.task_runs += 1;
            report.applied = written.applied;
            if written.retry {
                return Err("Taskwarrior could not be written; trying again later".into());
            }
        }
        Ok(())
    }
}
