//! Bringing Vikunja up to canonical state for one task, and what becomes of a write that fails:
//! one that waits ([`SyncError::waits`]: Vikunja down, 5xx, 429, timeouts, label-sync not
//! answering) is parked ([`crate::parked`]) and retried with backoff until it goes through,
//! never dead-lettered; one Vikunja refuses for good is a dead letter (`vikunja-write`), once,
//! until `vikunja-sync dead-letters replay` or a new change of the task tries it again.

use std::time::Instant;

use vsync_bus::Stage;

use crate::error::SyncError;
use crate::events::EventHandler;

use crate::pushed::Pushed;

impl EventHandler {
    /// Brings Vikunja up to canonical state for `uuid`; while Vikunja is failing the write
    /// parks without a request. `Err` only when the bus fails.
    pub(crate) async fn push(&self, uuid: &str) -> Result<Pushed, SyncError> {
        {
            let mut parked = self.parked.lock().await;
            if parked.vikunja_failing() {
                parked.park(uuid, "Vikunja is failing".into(), false, Instant::now());
                return Ok(Pushed::Parked);
            }
        }
        self.push_now(uuid).await
    }

    /// [`Self::push`], trying Vikunja whatever state it was last seen in.
    pub(crate) async fn push_now(&self, uuid: &str) -> Result<Pushed, SyncError> {
        let (state, _) = self.load(uuid).await?;
        match self.write(&state).await {
            Ok(w) => {
                self.record(uuid, w).await?;
                if state.vikunja_id == 0 {
                    // Created, and its Vikunja id stored: no writer creates it again.
                    self.bus.release_create(uuid).await?;
                }
                self.parked.lock().await.went_through(uuid);
                self.refused.lock().await.remove(uuid);
                Ok(Pushed::Written)
            }
            Err(e) if e.waits() => {
                tracing::warn!(uuid, error = %e, "Vikunja write waits");
                let failing = e.vikunja_failing();
                self.parked
                    .lock()
                    .await
                    .park(uuid, e.to_string(), failing, Instant::now());
                Ok(Pushed::Parked)
            }
            Err(e) => {
                self.parked.lock().await.forget(uuid);
                self.refuse(uuid, &e).await;
                Ok(Pushed::Refused(e.to_string()))
            }
        }
    }

    /// A write Vikunja refused: a dead letter the first time.
    async fn refuse(&self, uuid: &str, e: &SyncError) {
        tracing::error!(uuid, error = %e, "Vikunja refused a write");
        if !self.refused.lock().await.insert(uuid.to_string()) {
            return;
        }
        self.metrics
            .inc("vsync_dead_letters_total", &[("stage", "vikunja-write")]);
        let now = vsync_model::dates::now_us();
        if let Err(e) = self
            .bus
            .dead_letter(Stage::VikunjaWrite, uuid, &[], &e.to_string(), now)
            .await
        {
            tracing::error!(uuid, error = %e, "cannot write the dead letter");
            self.refused.lock().await.remove(uuid);
        }
    }

    /// Whether a write of `uuid` was refused and waits for a replay (or a new change).
    pub(crate) async fn is_refused(&self, uuid: &str) -> bool {
        self.refused.lock().await.contains(uuid)
    }

    /// Tries the parked writes that are due (see [`crate::parked::Parked::due`]), oldest
    /// first, until one has to wait again.
    pub(crate) async fn retry_parked(&self) {
        let due = self.parked.lock().await.due(Instant::now());
        for uuid in due {
            match self.push_now(&uuid).await {
                Ok(Pushed::Parked) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(uuid, error = %e, "cannot retry a parked write");
                    break;
                }
            }
        }
    }
}
