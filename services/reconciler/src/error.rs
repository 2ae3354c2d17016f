//! Why handling an event failed, and what becomes of the work: it waits, or it is a dead
//! letter.

use vsync_bus::BusError;
use vsync_vikunja::{ErrorKind, VikunjaError};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    #[error("Vikunja: {0}")]
    Vikunja(#[from] VikunjaError),
    /// The event itself is unusable: it goes to the dead-letter subject.
    #[error("invalid event: {0}")]
    Invalid(String),
    #[error("label-sync: {0}")]
    Labels(String),
    /// Another writer is creating the task in Vikunja; it waits for that one.
    #[error("task {0} is being created in Vikunja by another writer")]
    CreateInFlight(String),
    /// Vikunja's adoption runs by itself but has not finished: the event waits for it.
    #[error("Vikunja's tasks are not adopted yet")]
    AdoptionPending,
    /// A host asked to be adopted but did not answer in time: it is asked again.
    #[error("host not reachable for adoption: {0}")]
    HostAway(String),
    /// An operator's request that would do harm as asked (the reason says what to do).
    #[error("{0}")]
    Refused(String),
}

/// What becomes of work that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Trying again can succeed once something outside changes (Vikunja answers again, a rate
    /// limit clears, the bus or label-sync is back): the work waits, parked or redelivered
    /// with backoff, as long as it takes, and is never dead-lettered.
    Wait,
    /// Trying again the same way cannot succeed: a dead letter, with the reason, for
    /// `vikunja-sync dead-letters`.
    DeadLetter,
}

impl SyncError {
    /// What becomes of the work that failed with this error.
    pub fn disposition(&self) -> Disposition {
        let waits = match self {
            SyncError::Bus(_)
            | SyncError::Labels(_)
            | SyncError::CreateInFlight(_)
            | SyncError::HostAway(_)
            | SyncError::AdoptionPending => true,
            SyncError::Vikunja(e) => matches!(
                e.kind(),
                ErrorKind::Unavailable
                    | ErrorKind::Timeout
                    | ErrorKind::RateLimited
                    // A rejected API token waits until the token file holds one Vikunja accepts.
                    | ErrorKind::Unauthorized
            ),
            SyncError::Invalid(_) | SyncError::Refused(_) => false,
        };
        if waits {
            Disposition::Wait
        } else {
            Disposition::DeadLetter
        }
    }

    /// Whether the work waits rather than becoming a dead letter.
    pub fn waits(&self) -> bool {
        self.disposition() == Disposition::Wait
    }

    /// Whether it says Vikunja itself is failing, so other writes would fail too.
    pub fn vikunja_failing(&self) -> bool {
        matches!(self, SyncError::Vikunja(_)) && self.waits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_wait_and_refusals_are_dead_letters() {
        let api = |status: u16| {
            SyncError::Vikunja(VikunjaError::Api {
                route: "/tasks/{id}".into(),
                status,
                code: 0,
                message: String::new(),
            })
        };
        for status in [500, 502, 503, 429] {
            assert_eq!(api(status).disposition(), Disposition::Wait, "{status}");
            assert!(api(status).vikunja_failing());
        }
        for status in [400, 403, 404, 412] {
            assert_eq!(
                api(status).disposition(),
                Disposition::DeadLetter,
                "{status}"
            );
        }
        let labels = SyncError::Labels("no answer".into());
        assert!(labels.waits() && !labels.vikunja_failing());
        assert!(!SyncError::Invalid("x".into()).waits());
    }
}
