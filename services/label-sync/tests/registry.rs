//! label-sync against the Vikunja simulator and a real nats-server: the registry shared by
//! replicas, label creation exactly once, and the cheapest calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use label_sync::LabelSync;
use vikunja_sim::Simulator;
use vsync_bus::{Bus, BusConfig};
use vsync_harness::NatsServer;
use vsync_proto::{LabelEntry, LabelWork};
use vsync_vikunja::VikunjaClient;

fn client(sim: &Simulator) -> VikunjaClient {
    VikunjaClient::new(
        &format!("{}/api/v1", sim.base_url()),
        sim.token().into(),
        Duration::from_secs(10),
    )
    .unwrap()
}

async fn bus(nats: &NatsServer) -> Bus {
    Bus::connect(
        &BusConfig::new(&nats.url(), "label-sync-test").with_credentials(nats.server_credentials()),
    )
    .await
    .unwrap()
}

/// A label-sync replica with the registry filled from Vikunja, as the service starts.
async fn replica(nats: &NatsServer, sim: &Simulator, fold_case: bool) -> LabelSync {
    let sync = LabelSync::new(bus(nats).await, client(sim), fold_case);
    sync.registry().refresh(&client(sim)).await.unwrap();
    sync
}

/// `POST /labels/{id}` (rename) or `DELETE /labels/{id}`, as a user in the web UI would (the
/// simulator has no user action for these; plain HTTP/1.1 keeps this crate's dependencies).
async fn edit_label(sim: &Simulator, id: i64, title: Option<&str>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = sim.base_url().trim_start_matches("http://").to_string();
    let (method, body) = match title {
        Some(t) => ("POST", format!("{{\"title\":{t:?}}}")),
        None => ("DELETE", String::new()),
    };
    let req = format!(
        "{method} /api/v1/labels/{id} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        sim.token(),
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut res = String::new();
    conn.read_to_string(&mut res).await.unwrap();
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
}

fn work(task: i64, titles: &[&str], current: &[i64]) -> LabelWork {
    LabelWork {
        uuid: format!("uuid-{task}"),
        vikunja_task_id: task,
        titles: titles.iter().map(|t| t.to_string()).collect(),
        current_label_ids: current.to_vec(),
    }
}

/// The ids of the labels on a task, sorted.
fn label_ids(sim: &Simulator, task: i64) -> Vec<i64> {
    let mut v: Vec<i64> = sim
        .task(task)
        .unwrap()
        .labels
        .unwrap_or_default()
        .iter()
        .map(|l| l.id)
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_asked_for_the_same_new_label_at_once_create_it_once() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let tasks: Vec<i64> = (0..8)
        .map(|i| sim.create_task(project.id, &format!("t{i}")).id)
        .collect();
    let a = replica(&nats, &sim, false).await;
    let b = replica(&nats, &sim, false).await;
    sim.clear_requests();
    let works: Vec<LabelWork> = tasks.iter().map(|t| work(*t, &["x"], &[])).collect();
    let results = futures::future::join_all(
        works
            .iter()
            .enumerate()
            .map(|(i, w)| if i % 2 == 0 { a.apply(w) } else { b.apply(w) }),
    )
    .await;
    let xs: Vec<_> = sim
        .labels()
        .into_iter()
        .filter(|l| l.title == "x")
        .collect();
    assert_eq!(xs.len(), 1, "{xs:?}");
    for (r, t) in results.into_iter().zip(&tasks) {
        assert_eq!(r.unwrap().label_ids, [xs[0].id]);
        assert_eq!(label_ids(&sim, *t), [xs[0].id]);
    }
    let created = sim
        .calls()
        .iter()
        .filter(|c| *c == "PUT /api/v1/labels")
        .count();
    assert_eq!(created, 1, "{:?}", sim.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_titles_are_reused_the_lowest_duplicate_wins_and_unknown_ones_are_looked_up() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let task = sim.create_task(project.id, "t").id;
    let first = sim.create_label("dup");
    sim.create_label("dup");
    let sync = replica(&nats, &sim, false).await;

    sim.clear_requests();
    let r = sync.apply(&work(task, &["dup"], &[])).await.unwrap();
    assert_eq!(r.label_ids, [first.id]);
    assert_eq!(sim.calls(), ["PUT /api/v1/tasks/{id}/labels"]);

    // Made in Vikunja after the registry was filled: found in the listing, not made again.
    let later = sim.create_label("later");
    sim.clear_requests();
    let r = sync
        .apply(&work(task, &["dup", "later"], &[first.id]))
        .await
        .unwrap();
    assert_eq!(r.label_ids, [first.id, later.id]);
    assert_eq!(
        sim.calls(),
        ["GET /api/v1/labels", "PUT /api/v1/tasks/{id}/labels"]
    );
    assert_eq!(sim.labels().len(), 3, "nothing created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_change_is_one_single_call_more_are_one_bulk_set() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let task = sim.create_task(project.id, "t").id;
    let [a, b, c] = ["a", "b", "c"].map(|t| sim.create_label(t).id);
    let sync = replica(&nats, &sim, false).await;
    let steps: Vec<(Vec<&str>, Vec<i64>, &str)> = vec![
        (vec!["a"], vec![], "PUT /api/v1/tasks/{id}/labels"),
        (
            vec!["a", "b", "c"],
            vec![a],
            "POST /api/v1/tasks/{id}/labels/bulk",
        ),
        (
            vec!["a", "c"],
            vec![a, b, c],
            "DELETE /api/v1/tasks/{id}/labels/{labelID}",
        ),
        (vec!["b"], vec![a, c], "POST /api/v1/tasks/{id}/labels/bulk"),
        (
            vec![],
            vec![b],
            "DELETE /api/v1/tasks/{id}/labels/{labelID}",
        ),
    ];
    for (titles, current, call) in steps {
        sim.clear_requests();
        let r = sync.apply(&work(task, &titles, &current)).await.unwrap();
        assert_eq!(sim.calls(), [call], "{titles:?}");
        let mut want = r.label_ids.clone();
        want.sort();
        assert_eq!(label_ids(&sim, task), want, "{titles:?}");
    }
    // Several labels off at once: one bulk call with the empty set.
    sim.add_label(task, a).unwrap();
    sim.add_label(task, b).unwrap();
    sim.clear_requests();
    sync.apply(&work(task, &[], &[a, b])).await.unwrap();
    assert_eq!(sim.calls(), ["POST /api/v1/tasks/{id}/labels/bulk"]);
    assert!(label_ids(&sim, task).is_empty());
    // A label no longer on the task (the caller's view was stale) is what was wanted.
    sim.clear_requests();
    sync.apply(&work(task, &[], &[a])).await.unwrap();
    assert_eq!(sim.calls(), ["DELETE /api/v1/tasks/{id}/labels/{labelID}"]);
    // Nothing to change: no call.
    sim.clear_requests();
    sync.apply(&work(task, &[], &[])).await.unwrap();
    assert!(sim.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_deleted_or_renamed_in_vikunja_is_followed() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let task = sim.create_task(project.id, "t").id;
    let gone = sim.create_label("gone");
    let old = sim.create_label("old");
    let sync = replica(&nats, &sim, false).await;

    // Deleted: the add fails (8002), the registry is refreshed, the label made again once.
    edit_label(&sim, gone.id, None).await;
    sim.clear_requests();
    let r = sync.apply(&work(task, &["gone"], &[])).await.unwrap();
    assert_ne!(r.label_ids, [gone.id]);
    assert_eq!(
        sim.calls(),
        [
            "PUT /api/v1/tasks/{id}/labels",
            "GET /api/v1/labels",
            "PUT /api/v1/labels",
            "PUT /api/v1/tasks/{id}/labels"
        ]
    );
    assert_eq!(label_ids(&sim, task), r.label_ids);

    // Renamed: the new title is the same label once the registry refreshes, the old one free.
    edit_label(&sim, old.id, Some("new")).await;
    sync.registry().refresh(&client(&sim)).await.unwrap();
    assert_eq!(sync.registry().lookup("new").await.unwrap(), Some(old.id));
    assert_eq!(sync.registry().lookup("old").await.unwrap(), None);
    // And a title the registry does not know yet is looked up before anything is made.
    edit_label(&sim, old.id, Some("newer")).await;
    sim.clear_requests();
    let r = sync
        .apply(&work(task, &["newer"], &label_ids(&sim, task)))
        .await
        .unwrap();
    assert_eq!(r.label_ids, [old.id]);
    assert!(!sim.calls().contains(&"PUT /api/v1/labels".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_nobody_finished_is_taken_over() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let task = sim.create_task(project.id, "t").id;
    let sync = replica(&nats, &sim, false).await;
    // A replica claimed "stuck" a minute ago and died before creating it.
    let since_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 60_000;
    let claim = LabelEntry {
        id: -since_ms,
        title: "stuck".into(),
    };
    bus(&nats)
        .await
        .label_registry()
        .create(&vsync_bus::labels::key("stuck"), &claim)
        .await
        .unwrap();
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        sync.apply(&work(task, &["stuck"], &[])),
    )
    .await
    .expect("no wait for a stale claim")
    .unwrap();
    let made: Vec<_> = sim
        .labels()
        .into_iter()
        .filter(|l| l.title == "stuck")
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(r.label_ids, [made[0].id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lowercase_tags_a_title_in_another_case_is_the_same_label() {
    let nats = NatsServer::start();
    let sim = Simulator::start(Default::default()).await.unwrap();
    let project = sim.create_project("Home", 0);
    let task = sim.create_task(project.id, "t").id;
    let errand = sim.create_label("Errand");
    let sync = replica(&nats, &sim, true).await;
    let r = sync.apply(&work(task, &["errand"], &[])).await.unwrap();
    assert_eq!(r.label_ids, [errand.id]);
    assert_eq!(sim.labels().len(), 1, "nothing created");
}
