//! Vikunja's error body `{"code":N,"message":"…"}` becomes the error's kind, code and message.

use std::time::Duration;

use vikunja_sim::SimConfig;
use vsync_vikunja::ErrorKind;

use crate::helpers::{client, new_task, quick_retry, start, statuses};

#[tokio::test]
async fn a_missing_task_is_not_found_with_vikunjas_code() {
    let f = start(SimConfig::default(), quick_retry(3)).await;
    let e = f.api.get_task(4711).await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.code(), Some(4002));
    assert_eq!(e.message(), Some("This task does not exist"));
    let e = f.api.get_project(4711).await.expect_err("missing");
    assert_eq!((e.kind(), e.code()), (ErrorKind::NotFound, Some(3001)));
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_not_retried() {
    let f = start(SimConfig::default(), quick_retry(3)).await;
    let wrong = client(&f.sim, "tk_wrong", Duration::from_secs(10));
    let e = wrong.get_task(1).await.expect_err("refused");
    assert_eq!((e.kind(), e.code()), (ErrorKind::Unauthorized, Some(11)));
    assert!(!e.is_transient());
    assert_eq!(statuses(&f.sim, "GET /api/v1/tasks/{id}"), [401]);
    assert!(!e.to_string().contains("tk_wrong"), "{e}");
}

#[tokio::test]
async fn refusals_carry_the_code_that_says_why() {
    let f = start(SimConfig::default(), quick_retry(3)).await;

    // Validation: 412, code 2002.
    let e = f.api.create_project("", 0).await.expect_err("no title");
    assert_eq!(
        (e.kind(), e.status(), e.code()),
        (ErrorKind::Rejected, Some(412), Some(2002))
    );

    // A task without a title: 400, code 4001.
    let e = f
        .api
        .create_task(1, &new_task(""))
        .await
        .expect_err("no title");
    assert_eq!((e.kind(), e.code()), (ErrorKind::Rejected, Some(4001)));

    // An archived project refuses new tasks: 412, code 3008.
    let archived = f.sim.create_project("Old", 0).id;
    f.sim
        .update_project(archived, |p| p.is_archived = true)
        .expect("archived");
    let e = f
        .api
        .create_task(archived, &new_task("late"))
        .await
        .expect_err("archived");
    assert_eq!((e.kind(), e.code()), (ErrorKind::Rejected, Some(3008)));
    assert!(e.message().is_some_and(|m| m.contains("archived")), "{e}");

    // A label already on the task: 400, code 8001 (label-sync treats it as done).
    let task = f.sim.create_task(1, "labelled").id;
    let label = f.sim.create_label("errand").id;
    f.api.add_label(task, label).await.expect("added");
    let e = f
        .api
        .add_label(task, label)
        .await
        .expect_err("already there");
    assert_eq!((e.kind(), e.code()), (ErrorKind::Rejected, Some(8001)));
}
