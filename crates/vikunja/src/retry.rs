//! When a request is sent again, and how long the client waits first: backoff with jitter on
//! 5xx, timeouts and refused connections; on 429 until `Retry-After` or `X-RateLimit-Reset`
//! (Vikunja sends the latter), never longer than the policy allows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use reqwest::StatusCode;

/// Retry policy for 5xx, timeouts and 429.
#[derive(Clone, Debug)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest wait for a rate limit to clear before the next attempt.
    pub max_rate_limit_wait: Duration,
    /// Also repeat a request that is not safe to repeat (a `PUT` that creates) after a timeout
    /// or 5xx. Such a create may have committed before the answer was lost, so repeating it
    /// can make the object twice: off by default; the caller looks a create up before sending
    /// it again ([`crate::VikunjaError::may_have_applied`]). Refused connections and 429 are
    /// repeated either way: Vikunja never saw those requests.
    pub retry_creates: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_rate_limit_wait: Duration::from_secs(60),
            retry_creates: false,
        }
    }
}

/// How one attempt ended, as far as repeating it is concerned.
#[derive(Debug)]
pub(crate) enum Outcome<'a> {
    /// No connection: the request never reached Vikunja.
    NotSent,
    /// Sent, but no answer in time: it may or may not have been applied.
    TimedOut,
    /// Vikunja (or a proxy) answered this status.
    Answered(StatusCode, &'a HeaderMap),
}

impl Retry {
    /// The wait before sending again after attempt number `attempt` (1-based) ended with
    /// `outcome`, or `None` to give up. `safe_to_repeat`: the request does the same thing
    /// when sent twice (GET, full-replace POST, DELETE; not a create).
    pub(crate) fn wait_before_next(
        &self,
        outcome: &Outcome<'_>,
        attempt: u32,
        safe_to_repeat: bool,
    ) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        let may_repeat = safe_to_repeat || self.retry_creates;
        match outcome {
            Outcome::NotSent => Some(self.backoff(attempt)),
            Outcome::TimedOut => may_repeat.then(|| self.backoff(attempt)),
            Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, headers) => Some(
                rate_limit_wait(headers, SystemTime::now())
                    .map(|w| w.min(self.max_rate_limit_wait))
                    .unwrap_or_else(|| self.backoff(attempt)),
            ),
            Outcome::Answered(status, _) if status.is_server_error() => {
                may_repeat.then(|| self.backoff(attempt))
            }
            Outcome::Answered(..) => None,
        }
    }

    /// Exponential backoff with jitter: 50–100 % of `base_delay * 2^attempt`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1 << attempt.min(16));
        let capped = exp.min(self.max_delay);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        capped / 2 + capped.mul_f64(f64::from(nanos % 1000) / 2000.0)
    }
}

/// How long a 429 asks to wait: `Retry-After` (seconds) if a proxy sent it, else until
/// `X-RateLimit-Reset` (unix seconds, counted in whole seconds so a server that rounds the
/// reset down is not asked again too early), plus a margin.
fn rate_limit_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let secs = match header("retry-after") {
        Some(s) => s,
        None => {
            let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
            header("x-ratelimit-reset")?.saturating_sub(now)
        }
    };
    Some(Duration::from_secs(secs) + Duration::from_millis(50))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn a_rate_limit_is_waited_out_until_its_reset() {
        let h = headers(&[("x-ratelimit-reset", "1000")]);
        assert_eq!(
            rate_limit_wait(&h, at(990)),
            Some(Duration::from_millis(10_050))
        );
        assert_eq!(
            rate_limit_wait(&h, at(1005)),
            Some(Duration::from_millis(50))
        );
        let h = headers(&[("retry-after", "3"), ("x-ratelimit-reset", "1000")]);
        assert_eq!(
            rate_limit_wait(&h, at(990)),
            Some(Duration::from_millis(3050))
        );
        assert_eq!(rate_limit_wait(&headers(&[]), at(990)), None);
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(
            rate_limit_wait(&h, at(990)),
            None,
            "dates fall back to backoff"
        );
    }

    #[test]
    fn waits_are_bounded_and_attempts_counted() {
        let policy = Retry {
            attempts: 3,
            max_rate_limit_wait: Duration::from_secs(2),
            ..Retry::default()
        };
        let far = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            + 3600)
            .to_string();
        let h = headers(&[("x-ratelimit-reset", &far)]);
        let limited = Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, &h);
        assert_eq!(
            policy.wait_before_next(&limited, 1, true),
            Some(Duration::from_secs(2))
        );
        assert_eq!(policy.wait_before_next(&limited, 3, true), None);
        let backoff = policy
            .wait_before_next(&Outcome::TimedOut, 2, true)
            .expect("retried");
        assert!(backoff >= Duration::from_millis(200) && backoff <= Duration::from_millis(400));
    }

    #[test]
    fn only_requests_vikunja_never_saw_are_repeated_when_creates_are_not() {
        let h = HeaderMap::new();
        let careful = Retry::default();
        let unavailable = Outcome::Answered(StatusCode::SERVICE_UNAVAILABLE, &h);
        let limited = Outcome::Answered(StatusCode::TOO_MANY_REQUESTS, &h);
        assert!(careful.wait_before_next(&unavailable, 1, false).is_none());
        assert!(
            careful
                .wait_before_next(&Outcome::TimedOut, 1, false)
                .is_none()
        );
        assert!(
            careful
                .wait_before_next(&Outcome::NotSent, 1, false)
                .is_some()
        );
        assert!(careful.wait_before_next(&limited, 1, false).is_some());
        assert!(careful.wait_before_next(&unavailable, 1, true).is_some());
        // The default is careful.
        assert!(
            Retry::default()
                .wait_before_next(&unavailable, 1, false)
                .is_none()
        );
        let repeating = Retry {
            retry_creates: true,
            ..Retry::default()
        };
        assert!(repeating.wait_before_next(&unavailable, 1, false).is_some());
        let bad = Outcome::Answered(StatusCode::BAD_REQUEST, &h);
        assert!(Retry::default().wait_before_next(&bad, 1, true).is_none());
    }
}
