//! Where the next delta pass starts. Vikunja's `updated` has one-second resolution, so a delta
//! lists `updated >= watermark`, and every task of the newest second came again on every pass
//! until something newer happened (after a burst of thousands of tasks in one second: thousands
//! listed every minute). A second is closed once a listing began at least [`CLOSED_AFTER_US`]
//! after one that had already returned a task of it: Vikunja's clock and ours may differ, but
//! they run at one pace, so every task of that second existed by then and was listed. The
//! watermark then moves to the next second.

use std::sync::Mutex;

/// How long after a listing returned a task of a second a later listing has to begin for that
/// second to be closed (one second, and a margin).
const CLOSED_AFTER_US: i64 = 2_000_000;
const SECOND_US: i64 = 1_000_000;

/// The newest second a listing returned a task of, and when that listing had returned.
#[derive(Default)]
pub(crate) struct NewestSecond(Mutex<Option<(i64, i64)>>);

impl NewestSecond {
    /// The watermark to store after a listing that began at `began` and returned at `returned`
    /// (our clock), whose newest task was updated at `newest` (Vikunja's clock); all µs.
    pub(crate) fn watermark(&self, newest: i64, began: i64, returned: i64) -> i64 {
        let second = newest - newest.rem_euclid(SECOND_US);
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *seen {
            Some((s, first)) if s == second => {
                if began - first >= CLOSED_AFTER_US {
                    second + SECOND_US
                } else {
                    newest
                }
            }
            _ => {
                *seen = Some((second, returned));
                newest
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_closes_only_after_a_listing_begun_two_seconds_after_it_was_seen() {
        let w = NewestSecond::default();
        let newest = 1_000_000_000 * SECOND_US + 400_000;
        // First seen: the watermark stays on it (more tasks of that second may come).
        assert_eq!(w.watermark(newest, 10, 20), newest);
        // A listing begun 1.5 s after that one returned may still miss some.
        assert_eq!(w.watermark(newest, 1_500_020, 1_600_000), newest);
        // Begun 2 s after: the second is closed, the next delta starts after it.
        assert_eq!(
            w.watermark(newest, 2_000_020, 2_100_000),
            1_000_000_001 * SECOND_US
        );
        // A newer second starts over.
        let newer = newest + 3 * SECOND_US;
        assert_eq!(w.watermark(newer, 2_200_000, 2_300_000), newer);
    }
}
