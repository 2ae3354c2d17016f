//! What the HTTP handlers, the delivery worker and the [`crate::Simulator`] handle share:
//! the database behind one lock, fault injection and the request log.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::delivery::Deliverer;
use crate::error::SimError;
use crate::state::State;
use crate::{LoggedRequest, RateLimit};

/// Locks a mutex, recovering the data if a panicking test thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct Shared {
    pub token: String,
    pub max_per_page: usize,
    pub state: Mutex<State>,
    pub faults: Faults,
    pub requests: Mutex<Vec<LoggedRequest>>,
    pub deliverer: Deliverer,
}

impl Shared {
    /// Runs a change; its events are queued for delivery only if it succeeds, and while the
    /// lock is held so that deliveries follow the order of the changes.
    pub fn mutate<R>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, SimError>,
    ) -> Result<R, SimError> {
        let mut st = lock(&self.state);
        st.outbox.clear();
        let out = f(&mut st);
        let events = std::mem::take(&mut st.outbox);
        if out.is_ok() {
            for ev in events {
                self.deliverer.enqueue(ev);
            }
        }
        out
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&lock(&self.state))
    }

    pub fn log_request(&self, r: LoggedRequest) {
        lock(&self.requests).push(r);
    }
}

/// The rate-limit headers for one request.
pub(crate) struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset: u64,
    pub exceeded: bool,
}

#[derive(Default)]
struct RateWindow {
    limit: Option<RateLimit>,
    started: Option<Instant>,
    reset_unix: u64,
    count: u32,
}

/// Injected faults: latency, failures, a fixed-window rate limit.
pub(crate) struct Faults {
    latency: Mutex<Duration>,
    fail_next: Mutex<(usize, u16)>,
    rate: Mutex<RateWindow>,
}

impl Faults {
    pub fn new(latency: Duration, rate: Option<RateLimit>) -> Faults {
        Faults {
            latency: Mutex::new(latency),
            fail_next: Mutex::new((0, 500)),
            rate: Mutex::new(RateWindow {
                limit: rate,
                ..RateWindow::default()
            }),
        }
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub fn set_latency(&self, d: Duration) {
        *lock(&self.latency) = d;
    }

    pub fn fail_next(&self, n: usize, status: u16) {
        *lock(&self.fail_next) = (n, status);
    }

    /// The status to answer instead of serving this request, if a failure is pending.
    pub fn take_failure(&self) -> Option<u16> {
        let mut f = lock(&self.fail_next);
        if f.0 == 0 {
            return None;
        }
        f.0 -= 1;
        Some(f.1)
    }

    pub fn set_rate_limit(&self, rl: Option<RateLimit>) {
        *lock(&self.rate) = RateWindow {
            limit: rl,
            ..RateWindow::default()
        };
    }

    /// Counts one request against the current window (`None` without a limit).
    pub fn rate_tick(&self) -> Option<RateInfo> {
        let mut w = lock(&self.rate);
        let rl = w.limit.clone()?;
        let now = Instant::now();
        let expired = w.started.is_none_or(|s| now.duration_since(s) >= rl.period);
        if expired {
            w.started = Some(now);
            w.count = 0;
            let unix_now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            w.reset_unix = (unix_now + rl.period).as_secs_f64().ceil() as u64;
        }
        w.count = w.count.saturating_add(1);
        Some(RateInfo {
            limit: rl.limit,
            remaining: rl.limit.saturating_sub(w.count),
            reset: w.reset_unix,
            exceeded: w.count > rl.limit,
        })
    }
}
