//! Listings read every page: tasks by an id cursor that a concurrent delete cannot shift,
//! other listings by page number, each up to the page `x-pagination-total-pages` names, and
//! on until an empty page when that header is missing.

use std::collections::BTreeSet;

use vikunja_sim::{Fault, Requests, SimConfig, When};

use crate::helpers::{Fixture, filters, pages, quick_retry, start};

const PROJECT_TASKS: &str = "/api/v1/projects/{id}/tasks";

/// Three items a page, so that a handful of objects spans several pages.
async fn small_pages() -> Fixture {
    let cfg = SimConfig {
        max_items_per_page: 3,
        ..SimConfig::default()
    };
    start(cfg, quick_retry(3)).await
}

fn ids(tasks: &[vsync_model::VikunjaTask]) -> Vec<i64> {
    tasks.iter().map(|t| t.id()).collect()
}

#[tokio::test]
async fn a_task_listing_reads_every_task_in_id_order_by_a_cursor() {
    let f = small_pages().await;
    let made: Vec<i64> = (0..10)
        .map(|i| f.sim.create_task(1, &format!("task {i}")).id)
        .collect();
    let listed = f.api.list_tasks(None).await.expect("listing");
    assert_eq!(ids(&listed), made);
    let after = |i: usize| Some(format!("id > {}", made[i]));
    assert_eq!(
        filters(&f.sim, "/api/v1/tasks"),
        [None, after(2), after(5), after(8)]
    );
}

#[tokio::test]
async fn the_cursor_narrows_the_callers_filter() {
    let f = small_pages().await;
    for i in 0..4 {
        f.sim.create_task(1, &format!("task {i}"));
    }
    let listed = f
        .api
        .list_tasks(Some("priority = 0"))
        .await
        .expect("listing");
    assert_eq!(listed.len(), 4);
    let third = listed[2].id();
    assert_eq!(
        filters(&f.sim, "/api/v1/tasks"),
        [
            Some("priority = 0".to_string()),
            Some(format!("(priority = 0) && id > {third}"))
        ]
    );
}

#[tokio::test]
async fn the_last_page_is_the_one_the_header_names() {
    let f = small_pages().await;
    for i in 0..6 {
        f.sim.create_task(1, &format!("task {i}"));
    }
    let listed = f.api.project_tasks(1).await.expect("listing");
    assert_eq!(listed.len(), 6);
    // Two full pages: a client reading until an empty page would ask a third time.
    assert_eq!(filters(&f.sim, PROJECT_TASKS).len(), 2);
}

#[tokio::test]
async fn an_empty_listing_is_one_request() {
    let f = small_pages().await;
    assert!(f.api.list_tasks(None).await.expect("listing").is_empty());
    assert_eq!(filters(&f.sim, "/api/v1/tasks"), [None]);
}

#[tokio::test]
async fn a_task_deleted_between_two_pages_shifts_no_other_task_out() {
    let f = small_pages().await;
    let made: Vec<i64> = (0..6)
        .map(|i| f.sim.create_task(1, &format!("task {i}")).id)
        .collect();
    let first = made[0];
    f.sim.after_request(
        Requests::to(&format!("GET {PROJECT_TASKS}")),
        When::Next(1),
        move |sim| {
            sim.delete_task(first);
        },
    );
    let listed = f.api.project_tasks(1).await.expect("listing");
    assert_eq!(ids(&listed), made, "the deleted one was listed on page 1");
}

#[tokio::test]
async fn a_listing_without_the_total_pages_header_goes_on_until_an_empty_page() {
    let f = small_pages().await;
    let made: Vec<i64> = (0..7)
        .map(|i| f.sim.create_task(1, &format!("task {i}")).id)
        .collect();
    for i in 0..4 {
        f.sim.create_project(&format!("project {i}"), 0);
    }
    f.sim.inject(
        Requests::all(),
        Fault::omit_header("x-pagination-total-pages"),
        When::Always,
    );
    let listed = f.api.project_tasks(1).await.expect("listing");
    assert_eq!(ids(&listed), made);
    assert_eq!(filters(&f.sim, PROJECT_TASKS).len(), 4, "3 + 3 + 1 + none");
    let projects = f.api.projects().await.expect("projects");
    assert_eq!(projects.len(), 5);
    assert_eq!(pages(&f.sim, "/api/v1/projects"), [1, 2, 3]);
}

#[tokio::test]
async fn labels_and_projects_page_too() {
    let f = small_pages().await;
    let made: BTreeSet<i64> = (0..7)
        .map(|i| f.sim.create_label(&format!("label {i}")).id)
        .collect();
    let labels = f.api.labels().await.expect("labels");
    assert_eq!(labels.iter().map(|l| l.id).collect::<BTreeSet<_>>(), made);
    assert_eq!(pages(&f.sim, "/api/v1/labels"), [1, 2, 3]);

    // The default project and five more: two pages.
    for i in 0..5 {
        f.sim.create_project(&format!("project {i}"), 0);
    }
    let projects = f.api.projects().await.expect("projects");
    assert_eq!(projects.len(), 6);
    assert_eq!(
        projects.iter().map(|p| p.id).collect::<BTreeSet<_>>(),
        f.sim.projects().iter().map(|p| p.id).collect()
    );
    assert_eq!(pages(&f.sim, "/api/v1/projects"), [1, 2]);
}
