//! Canonical state in: the host's consumer on the canonical state bucket delivers the tasks that
//! changed; each batch of complete tasks is applied by the backend (in-process on Taskwarrior 3,
//! else one hooks-off `task import`; either replaces the whole task, so each starts from the
//! mirror's copy), then announced on the bus as this host's applied notice.
//!
//! Nothing is re-exported to verify an import (docs/ARCHITECTURE.md §5.3): each import is
//! recorded in the overlap bookkeeping, and checked only if a user command turns out to have run
//! at the same time (outbound). What that check finds lost is re-applied here, when due.

use std::time::{Duration, Instant};

use tracing::Instrument;
use vsync_bus::{BusError, Delivery, Stage, StateChange};
use vsync_model::tw;
use vsync_proto::{HostApplied, Origin, TaskState};

use crate::watcher::Watcher;

impl Watcher {
    /// Applies a batch of canonical states.
    pub(crate) async fn apply(&mut self, batch: Vec<Result<Delivery, BusError>>) {
        let mut msgs = Vec::new();
        let mut states: Vec<TaskState> = Vec::new();
        for m in batch {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "canonical state stream error");
                    continue;
                }
            };
            match m.state_change() {
                StateChange::Stored(s) => {
                    states.retain(|o| o.uuid != s.uuid);
                    states.push(*s);
                }
                StateChange::Removed => {}
                StateChange::Undecodable(e) => {
                    let _ = self
                        .bus
                        .dead_letter(
                            Stage::TwApply,
                            m.subject(),
                            m.payload(),
                            &e.to_string(),
                            vsync_model::dates::now_us(),
                        )
                        .await;
                }
            }
            msgs.push(m);
        }
        let Some(first) = msgs.first() else { return };
        // One span for the batch, in the trace of its first state.
        let span = first.process_span();
        span.record("tw.host", self.host.as_str());
        span.record("batch", states.len());
        let ok = self.apply_states(&states).instrument(span).await;
        for m in msgs {
            let _ = if ok {
                m.ack().await
            } else {
                m.nak(Duration::from_secs(1)).await
            };
        }
    }

    /// Applies what differs from the host, over what something else wrote there since we
    /// last looked (`local`); `false` when Taskwarrior could not be written now (the batch is
    /// redelivered).
    async fn apply_states(&mut self, states: &[TaskState]) -> bool {
        tracing::debug!(states = states.len(), "apply");
        let uuids: Vec<&str> = states.iter().map(|s| s.uuid.as_str()).collect();
        let local = match self.check_files(&uuids).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the host's files before an apply");
                return false;
            }
        };
        let mut targets = Vec::new();
        for s in states {
            let current = self.mirror.get(&s.uuid);
            if !self.takes(s, current.as_ref()) {
                continue; // outside the host's filter (`scope`)
            }
            let target = match (local.get(&s.uuid), current.as_ref()) {
                // A change no hook reported, just published: kept until canonical state has it.
                (Some(before), Some(now)) => tw::apply_keeping_local(s, now, before.as_ref()),
                _ => tw::apply(s, current.as_ref()),
            };
            if let Some(t) = target {
                targets.push((s.clone(), t));
            }
        }
        tracing::Span::current().record("applied", targets.len());
        !self.write(targets).await.retry
    }

    /// Tells listeners (status, benchmarks, the demo) that this host now shows `s`.
    pub(crate) async fn announce(&self, s: &TaskState, applied_at_us: i64) {
        self.metrics.inc("vsync_applied_total", &[]);
        let direction = match s.changed_by() {
            Origin::Taskwarrior if s.changed_by_host == self.host => None,
            Origin::Taskwarrior => Some("tw_to_tw"),
            _ => Some("vikunja_to_tw"),
        };
        if let Some(d) = direction {
            self.metrics.observe_since(
                "vsync_e2e_latency_seconds",
                &[("direction", d)],
                s.changed_at_us,
            );
        }
        let _ = self
            .bus
            .announce_applied(&HostApplied {
                host: self.host.clone(),
                uuid: s.uuid.clone(),
                version: s.version,
                changed_at_us: s.changed_at_us,
                applied_at_us,
            })
            .await;
    }

    /// Re-applies each task a concurrent write got in the way of, once it is due: at once when
    /// our import was lost, else once canonical state has merged the user's change (or after a
    /// while).
    pub(crate) async fn reapply_due(&mut self) {
        for r in self.overlap.take_reapplies() {
            let host_seen_us = if r.waits_for_merge() {
                match self.bus.load_state(&r.uuid).await {
                    Ok(Some((s, _))) => s.host_seen_us.get(&self.host).copied(),
                    _ => None,
                }
            } else {
                None
            };
            if r.is_due(host_seen_us, Instant::now()) {
                self.reapply_one(&r.uuid).await;
            } else {
                self.overlap.keep(r);
            }
        }
    }

    /// Applies the current canonical state of one task against a fresh export.
    async fn reapply_one(&mut self, uuid: &str) {
        let Ok(Some((state, _))) = self.bus.load_state(uuid).await else {
            return;
        };
        let local = match self.tw.export_uuids(&[uuid]).await {
            Ok(mut v) => v.pop(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot export for re-apply");
                return;
            }
        };
        if let Some(l) = &local {
            let _ = self.mirror.set(l.clone());
        }
        if let Some(t) = tw::apply(&state, local.as_ref()) {
            self.write(vec![(state, t)]).await;
        }
    }
}
