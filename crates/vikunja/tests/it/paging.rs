//! Listings read every page the simulator announces in `x-pagination-total-pages`, and no more.

use std::collections::BTreeSet;

use vikunja_sim::SimConfig;

use crate::helpers::{Fixture, pages, quick_retry, start};

/// Three items a page, so that a handful of objects spans several pages.
async fn small_pages() -> Fixture {
    let cfg = SimConfig {
        max_items_per_page: 3,
        ..SimConfig::default()
    };
    start(cfg, quick_retry(3)).await
}

#[tokio::test]
async fn a_task_listing_reads_every_page_in_id_order() {
    let f = small_pages().await;
    let made: Vec<i64> = (0..10)
        .map(|i| f.sim.create_task(1, &format!("task {i}")).id)
        .collect();
    let listed: Vec<i64> = f
        .api
        .list_tasks(None)
        .await
        .expect("listing")
        .iter()
        .map(|t| t.id())
        .collect();
    assert_eq!(listed, made);
    assert_eq!(pages(&f.sim, "/api/v1/tasks"), [1, 2, 3, 4]);
}

#[tokio::test]
async fn the_last_page_is_the_one_the_header_names() {
    let f = small_pages().await;
    for i in 0..6 {
        f.sim.create_task(1, &format!("task {i}"));
    }
    let listed = f.api.project_tasks(1).await.expect("listing");
    assert_eq!(listed.len(), 6);
    // Two full pages: a client reading until an empty page would ask for a third.
    assert_eq!(pages(&f.sim, "/api/v1/projects/{id}/tasks"), [1, 2]);
}

#[tokio::test]
async fn an_empty_listing_is_one_request() {
    let f = small_pages().await;
    assert!(f.api.list_tasks(None).await.expect("listing").is_empty());
    assert_eq!(pages(&f.sim, "/api/v1/tasks"), [1]);
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
