//! Foreign webhooks against the simulator, which lists and deletes webhooks as Vikunja does.

use std::time::Duration;

use vikunja_sim::{SimConfig, Simulator};

use super::*;

const OURS: &str = "https://sync.example.org/webhook";

fn project(id: i64, title: &str, parent: i64, archived: bool) -> Project {
    Project {
        id,
        title: title.into(),
        parent_project_id: parent,
        is_archived: archived,
        ..Project::default()
    }
}

fn registrar(only: &[&str]) -> Registrar {
    Registrar::new(
        Some(OURS.into()),
        Some(SecretString::from("secret".to_string())),
        only.iter().map(|s| s.to_string()).collect(),
    )
}

async fn client(sim: &Simulator) -> VikunjaClient {
    let base = format!("{}/api/v1", sim.base_url());
    VikunjaClient::new(
        &base,
        SecretString::from(sim.token()),
        Duration::from_secs(10),
    )
    .expect("client")
}

#[test]
fn synced_projects_are_the_chosen_trees_without_archived_ones() {
    let projects = [
        project(1, "Work", 0, false),
        project(2, "ClientA", 1, false),
        project(3, "Old", 2, true),
        project(4, "Home", 0, false),
        project(5, "Attic", 0, true),
        project(6, "Box", 5, false),
        // A broken listing: a cycle ends the walk.
        project(7, "Loop", 8, false),
        project(8, "Pool", 7, false),
    ];
    assert_eq!(synced_projects(&projects, &["Work".into()]), vec![1, 2]);
    assert_eq!(synced_projects(&projects, &[]), vec![1, 2, 4, 7, 8]);
}

#[tokio::test]
async fn webhooks_that_are_not_ours_are_listed_then_removed_on_synced_projects_only() {
    let sim = Simulator::start(SimConfig::default()).await.expect("sim");
    let api = client(&sim).await;
    let secret = SecretString::from("s".to_string());
    let work = sim.create_project("Work", 0).id;
    let client_a = sim.create_project("ClientA", work).id;
    let home = sim.create_project("Home", 0).id;
    let ours = api.create_webhook(work, OURS, &secret).await.expect("ours");
    let old = "https://old-sync.example.org/hook";
    let stale = api.create_webhook(work, old, &secret).await.expect("stale");
    let n8n = "https://n8n.example.org/hook";
    let below = api
        .create_webhook(client_a, n8n, &secret)
        .await
        .expect("below");
    let other = api.create_webhook(home, n8n, &secret).await.expect("home");

    let only_work = registrar(&["Work"]);
    let foreign = only_work.foreign_webhooks(&api).await.expect("listed");
    let found: Vec<(i64, i64, &str)> = foreign
        .iter()
        .map(|h| (h.project_id, h.id, h.target_url.as_str()))
        .collect();
    assert_eq!(found, [(work, stale.id, old), (client_a, below.id, n8n)]);
    assert_eq!(sim.webhooks(work).len(), 2, "listing removes nothing");

    only_work
        .remove_webhooks(&api, &foreign)
        .await
        .expect("removed");
    let left = |p| -> Vec<i64> { sim.webhooks(p).iter().map(|h| h.id).collect() };
    assert_eq!(left(work), [ours.id]);
    assert_eq!(left(client_a), Vec::<i64>::new());
    assert_eq!(left(home), [other.id], "not a synced project");
    // Removing again (another reconciler was first) is no error.
    only_work
        .remove_webhooks(&api, &foreign)
        .await
        .expect("already gone");
    assert!(
        only_work
            .foreign_webhooks(&api)
            .await
            .expect("listed")
            .is_empty()
    );
    let everything = registrar(&[]).foreign_webhooks(&api).await.expect("all");
    assert_eq!(
        everything.iter().map(|h| h.id).collect::<Vec<_>>(),
        [other.id]
    );
}

#[tokio::test]
async fn a_server_without_webhooks_has_no_foreign_ones() {
    let sim = Simulator::start(SimConfig {
        webhooks_enabled: false,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    sim.create_project("Work", 0);
    let api = client(&sim).await;
    assert!(
        registrar(&[])
            .foreign_webhooks(&api)
            .await
            .expect("no listing")
            .is_empty()
    );
}
