//! Full listings that do not show every live task: a task deleted between two pages, a missing
//! pagination header, tasks moved between two projects listed in parallel. None of it deletes
//! a live task (each task a listing misses is checked by id first), and a task a pass marked
//! deleted comes back when Vikunja shows it again.

use std::time::Duration;

use vikunja_sim::{Fault, Requests, SimConfig, When};
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

use super::everywhere;

const FAMILY: &str = "full listings";
const PROJECT_TASKS: &str = "GET /api/v1/projects/{id}/tasks";

/// A quiet system (passes only when asked) with two tasks a page and `titles` in Home on every
/// host.
async fn small_pages(projects: &[&str], titles: &[&'static str]) -> (System, Vec<i64>) {
    trace_init();
    let mut o = options(
        &["laptop", "desk"],
        projects,
        SimConfig {
            max_items_per_page: 2,
            ..SimConfig::default()
        },
    );
    o.reconcile_interval = Duration::from_secs(3600);
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let ids = titles
        .iter()
        .map(|t| sys.sim.create_task(home, t).id)
        .collect();
    for t in titles {
        everywhere(&sys, t).await;
    }
    (sys, ids)
}

const FIVE: [&str; 5] = ["one", "two", "three", "four", "five"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_deleted_between_two_pages_shifts_no_live_task_out() {
    let (sys, ids) = small_pages(&["Home"], &FIVE).await;
    let m = Measure::new(
        FAMILY,
        "a task deleted between two pages",
        "2 tasks a page; the first task deleted (its webhook dropped) right after page 1",
    );
    sys.sim.set_webhook_delivery(false);
    let first = ids[0];
    sys.sim.after_request(
        Requests::to(PROJECT_TASKS).in_project(project_id(&sys, "Home")),
        When::Next(1),
        move |sim| {
            sim.delete_task(first);
        },
    );
    // The first pass saw the task on page 1 before it went; the next one finds the deletion.
    let bus = test_bus(&sys).await;
    reconcile_now(&bus, true).await;
    reconcile_now(&bus, true).await;
    let mut wants: Vec<Want> = FIVE.iter().map(|t| Want::task("Home", t)).collect();
    wants[0] = Want::task("Home", "one").deleted();
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_without_its_total_pages_header_deletes_nothing() {
    let (sys, _) = small_pages(&["Home"], &FIVE).await;
    let m = Measure::new(
        FAMILY,
        "no x-pagination-total-pages",
        "2 tasks a page; every task listing answered without x-pagination-total-pages",
    );
    sys.sim.inject(
        Requests::to(PROJECT_TASKS),
        Fault::omit_header("x-pagination-total-pages"),
        When::Always,
    );
    let r = reconcile_now(&test_bus(&sys).await, true).await;
    let wants: Vec<Want> = FIVE.iter().map(|t| Want::task("Home", t)).collect();
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    assert_eq!(r.vikunja.as_ref().unwrap().deleted, 0, "{r}");
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_moved_between_two_projects_listed_in_parallel_are_kept_and_the_guard_says_so() {
    const TWELVE: [&str; 12] = [
        "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12",
    ];
    let (sys, ids) = small_pages(&["Home", "Work"], &TWELVE).await;
    let (home, work) = (project_id(&sys, "Home"), project_id(&sys, "Work"));
    webhook_registered(&sys, work).await;
    let m = Measure::new(
        FAMILY,
        "12 tasks moved between projects listed in parallel",
        "Home's listing slowed by 500 ms; its 12 tasks moved to Work (webhooks dropped) just after Work's listing",
    );
    sys.sim.set_webhook_delivery(false);
    sys.sim.inject(
        Requests::to(PROJECT_TASKS).in_project(home),
        Fault::Latency(Duration::from_millis(500)),
        When::Next(1),
    );
    sys.sim.after_request(
        Requests::to(PROJECT_TASKS).in_project(work),
        When::Next(1),
        move |sim| {
            for id in &ids {
                sim.update_task(*id, |t| t.project_id = work);
            }
        },
    );
    let r = reconcile_now(&test_bus(&sys).await, true).await;
    let pass = r.vikunja.as_ref().unwrap();
    assert_eq!((pass.deleted, pass.missed), (0, 12), "{r}");
    assert!(pass.guard.contains("missed 12"), "{r}");
    let wants: Vec<Want> = TWELVE.iter().map(|t| Want::task("Work", t)).collect();
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_marked_deleted_that_vikunja_shows_again_comes_back() {
    let (sys, _) = small_pages(&["Home"], &["still in Vikunja"]).await;
    // Canonical state as a listing that missed the task left it (before deletions were
    // checked): deleted by Vikunja's side, on every host.
    let local = wait_task(sys.host("laptop"), "the task", |t| {
        s(t, "description") == "still in Vikunja"
    })
    .await;
    let bus = test_bus(&sys).await;
    let (mut state, rev) = bus
        .load_state(s(&local, "uuid"))
        .await
        .unwrap()
        .expect("canonical state");
    let now = vsync_model::dates::now_us();
    let mut fields = state.fields.clone().unwrap_or_default();
    fields.set_status(vsync_proto::TaskStatus::Deleted);
    state.fields = Some(fields);
    state.stamps.insert(
        vsync_model::fields::STATUS.to_string(),
        vsync_proto::FieldStamp {
            at_us: now,
            origin: vsync_proto::Origin::Vikunja as i32,
            host: String::new(),
        },
    );
    state.vikunja_json.clear();
    state.version += 1;
    state.merged_at_us = now;
    bus.store_state(&state, Some(rev)).await.unwrap();
    for h in &sys.hosts {
        wait_task(h, "the wrong deletion", |t| {
            s(t, "description") == "still in Vikunja" && s(t, "status") == "deleted"
        })
        .await;
    }
    let m = Measure::new(
        FAMILY,
        "a wrongly deleted task listed again",
        "canonical state marked deleted by Vikunja's side while Vikunja still has the task",
    );
    reconcile_now(&bus, true).await;
    m.converge(
        &Sides::of(&sys),
        &[Want::task("Home", "still in Vikunja")],
        Duration::from_secs(20),
    )
    .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_gone_from_vikunja_at_once_are_held_until_the_operator_confirms() {
    const TWELVE: [&str; 12] = [
        "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9", "g10", "g11", "g12",
    ];
    let (sys, ids) = small_pages(&["Home"], &TWELVE).await;
    let m = Measure::new(
        FAMILY,
        "12 tasks gone from Vikunja at once",
        "12 of 12 tasks deleted in Vikunja with their webhooks dropped (a restored backup); \
         a full pass, then one with --confirm-deletions",
    );
    sys.sim.set_webhook_delivery(false);
    for id in &ids {
        sys.sim.delete_task(*id);
    }
    let bus = test_bus(&sys).await;
    let r = reconcile_now(&bus, true).await;
    let pass = r.vikunja.as_ref().unwrap();
    assert_eq!((pass.deleted, pass.held_deletions), (0, 12), "{r}");
    assert!(pass.guard.contains("--confirm-deletions"), "{r}");
    let deleted: Vec<String> = bus
        .all_states()
        .await
        .unwrap()
        .into_iter()
        .filter(|s| {
            s.fields
                .as_ref()
                .is_some_and(|f| f.status() == vsync_proto::TaskStatus::Deleted)
        })
        .map(|s| s.uuid)
        .collect();
    assert!(deleted.is_empty(), "held back, yet deleted: {deleted:?}");
    // A delta pass replaces the last report; status still says what is held.
    reconcile_now(&bus, false).await;
    let status = bus.status(0).await.unwrap().to_string();
    assert!(status.contains("deletions held back"), "{status}");

    let r = reconcile_asked(
        &bus,
        &vsync_bus::control::ReconcileRequest {
            full: true,
            confirm_deletions: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.vikunja.as_ref().unwrap().deleted, 12, "{r}");
    let status = bus.status(0).await.unwrap().to_string();
    assert!(!status.contains("deletions held back"), "{status}");
    let wants: Vec<Want> = TWELVE
        .iter()
        .map(|t| Want::task("Home", t).deleted())
        .collect();
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}
