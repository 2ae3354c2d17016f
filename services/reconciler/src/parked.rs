//! Vikunja writes that wait. A write that failed for a reason that passes (Vikunja down or
//! overloaded: 5xx, 429, timeouts, refused connections; label-sync not answering; whatever
//! [`crate::SyncError::waits`] says) is parked here, never dead-lettered, and tried again with
//! backoff until it goes through. While Vikunja itself is failing, new writes park at once
//! without a request, and one parked write at a time probes it; the first that goes through
//! brings the others along.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The first wait after a failure; it doubles with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two probes of a failing Vikunja.
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// The parked writes, and whether Vikunja is failing.
#[derive(Debug, Default)]
pub(crate) struct Parked {
    waiting: BTreeMap<String, Waiting>,
    failing: Option<Failing>,
}

#[derive(Debug)]
struct Waiting {
    since: Instant,
    reason: String,
}

#[derive(Debug, Clone, Copy)]
struct Failing {
    in_a_row: u32,
    next_probe: Instant,
}

impl Parked {
    /// Parks the write of `uuid` (kept once, with its first reason). `vikunja_failing`: the
    /// failure says Vikunja itself is failing, so writes wait for a probe to go through.
    pub(crate) fn park(&mut self, uuid: &str, reason: String, vikunja_failing: bool, now: Instant) {
        self.waiting
            .entry(uuid.to_string())
            .or_insert(Waiting { since: now, reason });
        if vikunja_failing {
            let in_a_row = self.failing.map_or(1, |f| f.in_a_row + 1);
            self.failing = Some(Failing {
                in_a_row,
                next_probe: now + backoff(in_a_row),
            });
        }
    }

    /// Whether Vikunja is failing: a new write parks without a request.
    pub(crate) fn vikunja_failing(&self) -> bool {
        self.failing.is_some()
    }

    /// The parked writes to try now, oldest first: all of them while Vikunja answers, one (a
    /// probe) once its backoff is over while it fails, none before.
    pub(crate) fn due(&self, now: Instant) -> Vec<String> {
        let mut by_age: Vec<(&String, &Waiting)> = self.waiting.iter().collect();
        by_age.sort_by_key(|(_, w)| w.since);
        let oldest_first = by_age.into_iter().map(|(u, _)| u.clone());
        match self.failing {
            None => oldest_first.collect(),
            Some(f) if now >= f.next_probe => oldest_first.take(1).collect(),
            Some(_) => Vec::new(),
        }
    }

    /// The write of `uuid` went through: Vikunja answers.
    pub(crate) fn went_through(&mut self, uuid: &str) {
        self.waiting.remove(uuid);
        self.failing = None;
    }

    /// Forgets the write of `uuid` (refused for good, or nothing left to write).
    pub(crate) fn forget(&mut self, uuid: &str) {
        self.waiting.remove(uuid);
    }

    /// How many writes wait, and the oldest one's reason.
    pub(crate) fn summary(&self) -> (usize, Option<&str>) {
        let oldest = self.waiting.values().min_by_key(|w| w.since);
        (self.waiting.len(), oldest.map(|w| w.reason.as_str()))
    }
}

/// The wait after `in_a_row` failures: 250 ms, doubling, at most 15 s.
fn backoff(in_a_row: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << in_a_row.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn while_vikunja_fails_one_write_probes_it_after_a_growing_backoff() {
        let t0 = Instant::now();
        let mut p = Parked::default();
        p.park("a", "503".into(), true, t0);
        p.park("b", "503".into(), true, t0 + Duration::from_millis(1));
        assert!(p.vikunja_failing());
        assert!(p.due(t0).is_empty(), "not before the backoff");
        assert_eq!(p.due(t0 + Duration::from_millis(800)), ["a"], "one probe");
        // The probe failed too: the next one waits longer.
        p.park("a", "503 again".into(), true, t0 + Duration::from_secs(1));
        assert!(p.due(t0 + Duration::from_millis(1400)).is_empty());
        assert_eq!(p.due(t0 + Duration::from_secs(2)), ["a"]);
        assert_eq!(p.summary(), (2, Some("503")), "the first reason stays");
        p.went_through("a");
        assert!(!p.vikunja_failing());
        assert_eq!(p.due(t0 + Duration::from_secs(2)), ["b"], "the rest follow");
    }

    #[test]
    fn a_failure_that_is_not_vikunjas_parks_without_stopping_other_writes() {
        let t0 = Instant::now();
        let mut p = Parked::default();
        p.park("a", "label-sync: no answer".into(), false, t0);
        assert!(!p.vikunja_failing());
        assert_eq!(p.due(t0), ["a"]);
        p.forget("a");
        assert!(p.due(t0).is_empty());
        assert_eq!(p.summary(), (0, None));
    }

    #[test]
    fn the_backoff_doubles_up_to_fifteen_seconds() {
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(7), Duration::from_secs(15));
        assert_eq!(backoff(60), Duration::from_secs(15));
    }
}
