//! 429: the client waits until the rate limit's reset instead of asking again at once, and
//! never longer than the policy allows.

use std::time::{Duration, Instant};

use vikunja_sim::{RateLimit, SimConfig};
use vsync_vikunja::{ErrorKind, Retry};

use crate::helpers::{creates_not_repeated, new_task, quick_retry, start, statuses};

fn limited(limit: u32, period: Duration) -> SimConfig {
    SimConfig {
        rate_limit: Some(RateLimit { limit, period }),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_until_its_reset() {
    // Backing off alone would spend the five attempts within milliseconds, all refused.
    let f = start(limited(2, Duration::from_secs(1)), quick_retry(5)).await;
    let started = Instant::now();
    for _ in 0..3 {
        f.api.get_project(1).await.expect("answered");
    }
    assert_eq!(
        statuses(&f.sim, "GET /api/v1/projects/{id}"),
        [200, 200, 429, 200],
        "one refusal, then the wait until the window's reset"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_wait_for_a_rate_limit_is_bounded() {
    let bounded = Retry {
        max_rate_limit_wait: Duration::from_millis(200),
        ..quick_retry(3)
    };
    // The window resets in an hour.
    let f = start(limited(1, Duration::from_secs(3600)), bounded).await;
    f.api.get_project(1).await.expect("within the limit");
    let started = Instant::now();
    let e = tokio::time::timeout(Duration::from_secs(5), f.api.get_project(1))
        .await
        .expect("the wait is bounded, not the hour to the reset")
        .expect_err("still limited");
    let waited = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(
        (e.status(), e.message()),
        (Some(429), Some("Too Many Requests"))
    );
    assert_eq!(
        statuses(&f.sim, "GET /api/v1/projects/{id}"),
        [200, 429, 429, 429]
    );
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "two waits of at most 200 ms, not the hour to the reset nor a quick backoff: {waited:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_create_is_repeated_even_when_creates_are_not() {
    let f = start(limited(1, Duration::from_secs(1)), creates_not_repeated(5)).await;
    f.api.get_project(1).await.expect("within the limit");
    f.api
        .create_task(1, &new_task("after the wait"))
        .await
        .expect("Vikunja refused it unseen, so it is sent again");
    assert_eq!(
        statuses(&f.sim, "PUT /api/v1/projects/{id}/tasks"),
        [429, 201]
    );
    assert_eq!(f.sim.tasks().len(), 1);
}
