//! Pagination as a real server does it: pages are cut from the listing as it is when each is
//! asked for, so a delete between two pages shifts a task out; a stable order (an id
//! cursor) does not; and the total-pages header can be taken away.

use serde_json::Value;
use vikunja_sim::{Fault, Requests, SimConfig, When};

use crate::helpers::Api;

const LIST: &str = "GET /api/v1/projects/{id}/tasks";

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(|t| t["id"].as_i64()).collect())
        .unwrap_or_default()
}

async fn four_tasks() -> (Api, Vec<i64>) {
    let api = Api::with(SimConfig {
        max_items_per_page: 2,
        ..SimConfig::default()
    })
    .await;
    let ids = (1..=4)
        .map(|i| api.sim.create_task(1, &format!("task {i}")).id)
        .collect();
    (api, ids)
}

#[tokio::test]
async fn a_task_deleted_between_two_pages_shifts_another_out_of_the_listing() {
    let (api, t) = four_tasks().await;
    let first = t[0];
    let hook = api.sim.after_request(
        Requests::to(LIST).with_param("page", "1"),
        When::Next(1),
        move |sim| {
            sim.delete_task(first);
        },
    );
    let page1 = api.get("/projects/1/tasks?page=1").await;
    let page2 = api.get("/projects/1/tasks?page=2").await;
    assert_eq!(ids(&page1.json), [t[0], t[1]]);
    assert_eq!(
        ids(&page2.json),
        [t[3]],
        "task 3 moved to page 1 and was never listed"
    );
    assert_eq!(api.sim.fault_hits(hook), 1);
    assert!(api.sim.task(t[2]).is_some(), "yet it is alive");
}

#[tokio::test]
async fn an_id_cursor_lists_every_live_task_despite_the_delete() {
    let (api, t) = four_tasks().await;
    let first = t[0];
    api.sim
        .after_request(Requests::to(LIST), When::Next(1), move |sim| {
            sim.delete_task(first);
        });
    let page1 = api.get("/projects/1/tasks?sort_by=id&order_by=asc").await;
    let last = *ids(&page1.json).last().unwrap();
    let page2 = api
        .get(&format!(
            "/projects/1/tasks?sort_by=id&order_by=asc&filter=id+%3E+{last}"
        ))
        .await;
    assert_eq!(ids(&page1.json), [t[0], t[1]]);
    assert_eq!(ids(&page2.json), [t[2], t[3]]);
}

#[tokio::test]
async fn the_total_pages_header_can_be_missing() {
    let (api, _) = four_tasks().await;
    api.sim.inject(
        Requests::to(LIST),
        Fault::omit_header("x-pagination-total-pages"),
        When::Always,
    );
    let r = api.get("/projects/1/tasks").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("x-pagination-total-pages").is_none());
    assert_eq!(r.header("x-pagination-result-count"), "2");
    let other = api.get("/tasks").await;
    assert_eq!(other.header("x-pagination-total-pages"), "2");
    assert_eq!(other.json.as_array().map(Vec::len), Some(2));
}
