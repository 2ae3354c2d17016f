//! The permissions the sync needs are derived from the calls it makes: a token holding exactly
//! them may make every call, one lacking a group is refused exactly those calls, and a probe
//! finds which without changing anything.

use std::time::Duration;

use vikunja_sim::{SimConfig, Simulator};
use vsync_vikunja::{Call, Probe, needed_permissions};

use crate::helpers::{client, quick_retry, start};

/// A token of the simulator's user holding `perms` minus the group `without`.
fn token(sim: &Simulator, without: Option<&str>) -> String {
    let perms = needed_permissions(true);
    let owned: Vec<(&str, Vec<&str>)> = perms
        .iter()
        .filter(|(g, _)| Some(g.as_str()) != without)
        .map(|(g, vs)| (g.as_str(), vs.iter().map(String::as_str).collect()))
        .collect();
    let borrowed: Vec<(&str, &[&str])> = owned.iter().map(|(g, vs)| (*g, vs.as_slice())).collect();
    sim.create_token(&borrowed, None).expect("token")
}

#[tokio::test]
async fn a_token_with_the_derived_permissions_may_make_every_call_of_the_sync() {
    let f = start(SimConfig::default(), quick_retry(1)).await;
    let project = f.sim.create_project("Home", 0).id;
    f.sim.create_task(project, "one");
    let api = client(&f.sim, &token(&f.sim, None), Duration::from_secs(10));
    let before = (f.sim.projects(), f.sim.tasks(), f.sim.labels());
    for call in Call::ALL.iter().filter(|c| c.made_by_the_sync()) {
        assert_eq!(
            api.probe(*call).await.expect("answer"),
            Probe::Allowed,
            "{call:?}"
        );
    }
    let after = (f.sim.projects(), f.sim.tasks(), f.sim.labels());
    assert!(before == after, "probes change nothing");
    let writes: Vec<u16> = f
        .sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.status)
        .collect();
    assert!(
        !writes.is_empty() && writes.iter().all(|s| *s >= 400 && *s != 401),
        "every write probe is let through, then refused: {writes:?}"
    );
    // And the calls themselves, with real objects.
    assert_eq!(api.project_tasks(project).await.expect("listing").len(), 1);
    let projects = api.projects().await.expect("projects");
    assert!(projects.iter().any(|p| p.id == project));
    assert!(api.labels().await.is_ok());
    assert!(api.webhooks(project).await.is_ok());
    assert!(
        f.sim.requests().iter().all(|r| r.status != 401),
        "{:?}",
        f.sim.calls()
    );
}

#[tokio::test]
async fn a_token_lacking_a_group_is_refused_exactly_its_calls() {
    let f = start(SimConfig::default(), quick_retry(1)).await;
    let api = client(
        &f.sim,
        &token(&f.sim, Some("tasks_labels")),
        Duration::from_secs(10),
    );
    let mut refused = Vec::new();
    for call in Call::ALL.iter().filter(|c| c.made_by_the_sync()) {
        if api.probe(*call).await.expect("answer") == Probe::Refused {
            refused.push(*call);
        }
    }
    assert_eq!(
        refused,
        [
            Call::AddTaskLabel,
            Call::RemoveTaskLabel,
            Call::SetTaskLabels
        ]
    );
    assert!(f.sim.tasks().is_empty(), "probes change nothing");
}
