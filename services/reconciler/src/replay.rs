//! Replaying dead letters (`vikunja-sync dead-letters replay`): the work each one stands for is
//! done again, and the dead letter removed; should it fail for good again, a new dead letter
//! says why. An event the reconciler could not handle goes back to its subject; a Vikunja write
//! that was refused is tried again now; a host that could not apply a task gets the task's
//! canonical state again. A dead letter of a host's own (a hook message it could not read) can
//! only be redone on that host, and stays.

use vsync_bus::StoredDeadLetter;
use vsync_bus::reports::ReplayReport;

use crate::error::SyncError;
use crate::events::EventHandler;
use crate::pushed::Pushed;

impl EventHandler {
    /// Replays dead letter `seq`, or every one.
    pub async fn replay(&self, seq: Option<u64>) -> Result<ReplayReport, SyncError> {
        let letters: Vec<StoredDeadLetter> = self
            .bus
            .dead_letters()
            .await?
            .into_iter()
            .filter(|d| seq.is_none_or(|s| s == d.seq))
            .collect();
        if let (Some(seq), true) = (seq, letters.is_empty()) {
            return Err(SyncError::Invalid(format!(
                "there is no dead letter #{seq}"
            )));
        }
        let mut report = ReplayReport::default();
        for d in letters {
            let stage = d.letter.stage.clone();
            match self.replay_one(&d).await? {
                Ok(done) => report.replayed.push((d.seq, stage, done)),
                Err(why) => report.kept.push((d.seq, stage, why)),
            }
        }
        Ok(report)
    }

    /// What replaying one dead letter did (`Err`: why it was kept).
    async fn replay_one(&self, d: &StoredDeadLetter) -> Result<Result<String, String>, SyncError> {
        let subject = d.letter.subject.as_str();
        Ok(Ok(match d.letter.stage.as_str() {
            "reconciler" if subject.starts_with(vsync_bus::subject::IN) => {
                self.bus.republish(d).await?;
                self.bus.remove_dead_letter(d.seq).await?;
                format!("event on {subject} handled again")
            }
            "vikunja-write" => {
                // Removed first: a new refusal makes a new dead letter.
                self.bus.remove_dead_letter(d.seq).await?;
                self.refused.lock().await.remove(subject);
                match self.push_now(subject).await? {
                    Pushed::Written => format!("task {subject} written to Vikunja"),
                    Pushed::Parked => format!("task {subject} waits for Vikunja"),
                    Pushed::Refused(why) => format!("task {subject} refused again: {why}"),
                }
            }
            "tw-apply" if uuid::Uuid::parse_str(subject).is_ok() => {
                if !self.resend_state(subject).await? {
                    return Ok(Err(format!("task {subject} has no canonical state")));
                }
                self.bus.remove_dead_letter(d.seq).await?;
                format!("task {subject} sent to every host again")
            }
            _ => return Ok(Err("only the host that wrote it can redo it".into())),
        }))
    }

    /// Stores a task's canonical state again, unchanged, so every host applies it again.
    async fn resend_state(&self, uuid: &str) -> Result<bool, SyncError> {
        loop {
            let (state, rev) = self.load(uuid).await?;
            if rev.is_none() {
                return Ok(false);
            }
            if let vsync_bus::Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                return Ok(true);
            }
        }
    }
}
