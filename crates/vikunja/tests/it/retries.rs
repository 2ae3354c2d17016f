//! 5xx and timeouts are retried as the policy says, creates only when it allows, 4xx never.

use std::time::{Duration, Instant};

use vikunja_sim::{Fault, Requests, SimConfig, When};
use vsync_vikunja::ErrorKind;

use crate::helpers::{
    creates_not_repeated, new_task, quick_retry, start, start_with_timeout, statuses,
};

#[tokio::test]
async fn server_errors_are_retried_until_vikunja_answers() {
    let f = start(SimConfig::default(), quick_retry(5)).await;
    let id = f.sim.create_task(1, "still there").id;
    f.sim.fail_next(2, 503);
    let t = f.api.get_task(id).await.expect("answered on the third try");
    assert_eq!(t.title(), "still there");
    assert_eq!(statuses(&f.sim, "GET /api/v1/tasks/{id}"), [503, 503, 200]);
    assert_eq!(f.api.calls(), 3);
}

#[tokio::test]
async fn retries_end_after_the_policys_attempts() {
    let f = start(SimConfig::default(), quick_retry(3)).await;
    f.sim.fail_next(10, 500);
    let e = f.api.get_task(1).await.expect_err("still failing");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(e.status(), Some(500));
    assert!(e.is_transient());
    assert_eq!(statuses(&f.sim, "GET /api/v1/tasks/{id}"), [500, 500, 500]);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let f = start(SimConfig::default(), quick_retry(5)).await;
    let e = f.api.get_task(4711).await.expect_err("no such task");
    assert!(e.is_not_found());
    assert_eq!(statuses(&f.sim, "GET /api/v1/tasks/{id}"), [404]);
}

#[tokio::test]
async fn a_create_is_repeated_after_a_5xx_only_when_the_policy_allows() {
    let f = start(SimConfig::default(), creates_not_repeated(5)).await;
    f.sim.fail_next(1, 502);
    let e = f
        .api
        .create_task(1, &new_task("once"))
        .await
        .expect_err("not repeated");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(statuses(&f.sim, "PUT /api/v1/projects/{id}/tasks"), [502]);
    assert!(f.sim.tasks().is_empty());

    // A policy that allows it repeats it (the simulator's injected failure changed nothing).
    let repeating = vsync_vikunja::Retry {
        retry_creates: true,
        ..quick_retry(5)
    };
    let f = start(SimConfig::default(), repeating).await;
    f.sim.fail_next(1, 502);
    f.api
        .create_task(1, &new_task("once"))
        .await
        .expect("repeated");
    assert_eq!(
        statuses(&f.sim, "PUT /api/v1/projects/{id}/tasks"),
        [502, 201]
    );
    assert_eq!(f.sim.tasks().len(), 1);
}

#[tokio::test]
async fn by_default_a_create_whose_answer_was_lost_is_sent_once_and_may_have_applied() {
    let f = start(SimConfig::default(), quick_retry(5)).await;
    f.sim.inject(
        Requests::to("PUT /api/v1/projects/{id}/tasks"),
        Fault::LoseResponse,
        When::Next(1),
    );
    let e = f
        .api
        .create_task(1, &new_task("made, answer lost"))
        .await
        .expect_err("no answer");
    assert!(e.may_have_applied(), "{e}");
    assert_eq!(statuses(&f.sim, "PUT /api/v1/projects/{id}/tasks").len(), 1);
    assert_eq!(f.sim.tasks().len(), 1, "it was made, once");
    // A refusal says it was not.
    f.sim.fail_next(1, 400);
    let e = f.api.create_task(1, &new_task("x")).await.expect_err("400");
    assert!(!e.may_have_applied());
    f.sim.go_offline().await;
    let e = f
        .api
        .create_task(1, &new_task("y"))
        .await
        .expect_err("down");
    assert!(!e.may_have_applied(), "{e}");
}

#[tokio::test]
async fn a_request_without_an_answer_in_time_is_retried_then_reported_as_a_timeout() {
    let timeout = Duration::from_millis(100);
    let f = start_with_timeout(SimConfig::default(), quick_retry(3), timeout).await;
    f.sim.set_latency(Duration::from_secs(2));
    let started = Instant::now();
    let e = f.api.get_task(1).await.expect_err("too slow");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.is_transient());
    assert_eq!(f.api.calls(), 3, "every attempt timed out");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "each attempt ends at the client's timeout, {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_create_without_an_answer_is_not_repeated_when_the_policy_says_so() {
    let timeout = Duration::from_millis(100);
    let f = start_with_timeout(SimConfig::default(), creates_not_repeated(3), timeout).await;
    f.sim.set_latency(Duration::from_secs(2));
    let e = f
        .api
        .create_task(1, &new_task("maybe made"))
        .await
        .expect_err("too slow");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        f.api.calls(),
        1,
        "a create that may have committed is not sent again"
    );
    // A read is still retried under the same policy.
    f.api.get_task(1).await.expect_err("too slow");
    assert_eq!(f.api.calls(), 4);
}
