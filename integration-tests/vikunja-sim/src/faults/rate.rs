//! Vikunja's rate limiter (`ratelimit.*`, reference §5): a fixed window per period, then 429.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::shared::lock;

/// At most `limit` API requests per `period` (a fixed window); beyond that 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub period: Duration,
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
struct Window {
    limit: Option<RateLimit>,
    started: Option<Instant>,
    reset_unix: u64,
    count: u32,
}

pub(crate) struct RateLimiter(Mutex<Window>);

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter(Mutex::new(Window {
            limit,
            ..Window::default()
        }))
    }

    /// Replaces the limit and starts a new window.
    pub fn set(&self, limit: Option<RateLimit>) {
        *lock(&self.0) = Window {
            limit,
            ..Window::default()
        };
    }

    /// Counts one request against the current window (`None` without a limit).
    pub fn tick(&self) -> Option<RateInfo> {
        let mut w = lock(&self.0);
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
