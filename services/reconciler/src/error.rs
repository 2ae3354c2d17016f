//! Why handling an event failed, and whether trying again can help.

use vsync_bus::BusError;
use vsync_vikunja::VikunjaError;

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
}

impl SyncError {
    /// Whether a retry later can succeed (bus or Vikunja outage, rate limits, a rejected API
    /// token: the work waits until the token file holds one Vikunja accepts).
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Bus(_) | SyncError::Labels(_) => true,
            SyncError::Vikunja(VikunjaError::Transport { .. }) => true,
            SyncError::Vikunja(e) if e.kind() == vsync_vikunja::ErrorKind::Unauthorized => true,
            SyncError::Vikunja(e) => e.status().is_none_or(|s| s >= 500 || s == 429),
            SyncError::Invalid(_) => false,
        }
    }
}
