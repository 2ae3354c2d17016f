//! Injected delivery faults: dropped, duplicated, delayed, held and reordered, unreachable
//! (dropped after the retries), and the private-address guard.

use std::time::Duration;

use vikunja_sim::{Deliveries, DeliveryFault, DeliveryOutcome, Release, SimConfig, When};

use crate::helpers::{Api, Receiver, WAIT, eventually};

#[tokio::test]
async fn a_dropped_delivery_is_never_sent() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created"], "").await;
    let drop = api.sim.inject_delivery(
        Deliveries::of("task.created"),
        DeliveryFault::Drop,
        When::Next(1),
    );
    api.sim.create_task(1, "lost");
    let kept = api.sim.create_task(1, "kept");
    let hits = rx.wait_for(1).await;
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(rx.hits().len(), 1);
    assert_eq!(hits[0].json()["data"]["task"]["id"], kept.id);
    assert_eq!(api.sim.fault_hits(drop), 1);
}

#[tokio::test]
async fn a_duplicated_delivery_arrives_twice_with_the_same_body() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let hook = api.hook(1, &rx.url, &["task.updated"], "").await;
    api.sim.inject_delivery(
        Deliveries::of("task.updated").to_webhook(hook),
        DeliveryFault::Duplicate(2),
        When::Next(1),
    );
    let t = api.sim.create_task(1, "twice");
    api.sim.update_task(t.id, |t| t.priority = 2);
    api.sim.update_task(t.id, |t| t.priority = 3);
    rx.wait_for(3).await;
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0].body, hits[1].body);
}

#[tokio::test]
async fn a_delayed_delivery_is_overtaken() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created", "task.updated"], "")
        .await;
    api.sim.inject_delivery(
        Deliveries::of("task.created"),
        DeliveryFault::Delay(Duration::from_secs(1)),
        When::Always,
    );
    let t = api.sim.create_task(1, "late");
    api.sim.update_task(t.id, |t| t.priority = 1);
    rx.wait_for(2).await;
    assert_eq!(rx.events(), ["task.updated", "task.created"]);
}

#[tokio::test]
async fn held_deliveries_are_released_newest_first() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created", "task.updated"], "")
        .await;
    api.sim.hold_deliveries();
    let t = api.sim.create_task(1, "first title");
    assert!(eventually(|| api.sim.held_deliveries() == 1).await);
    api.sim
        .update_task(t.id, |t| t.title = "second title".into());
    assert!(eventually(|| api.sim.held_deliveries() == 2).await);
    assert!(
        !api.sim
            .wait_deliveries_idle(Duration::from_millis(50))
            .await,
        "held deliveries are pending"
    );
    assert!(rx.hits().is_empty());

    api.sim.release_deliveries(Release::Reversed);
    let hits = rx.wait_for(2).await;
    assert_eq!(rx.events(), ["task.updated", "task.created"]);
    assert_eq!(
        hits[1].json()["data"]["task"]["title"],
        "first title",
        "built when held"
    );
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(api.sim.held_deliveries(), 0);
}

#[tokio::test]
async fn an_unreachable_target_gets_six_attempts_then_the_delivery_is_dropped() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created"], "").await;
    api.sim
        .inject_delivery(Deliveries::all(), DeliveryFault::Unreachable, When::Next(1));
    api.sim.create_task(1, "never arrives");
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    let attempts = api.sim.deliveries();
    assert_eq!(attempts.len(), 6);
    assert!(
        attempts
            .iter()
            .all(|d| matches!(d.outcome, DeliveryOutcome::Error(_)))
    );
    assert!(attempts[5].dropped);
    assert!(rx.hits().is_empty(), "nothing was sent");
    api.sim.create_task(1, "arrives");
    rx.wait_for(1).await;
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let api = Api::with(SimConfig {
        allow_non_routable_ips: false,
        ..SimConfig::default()
    })
    .await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created"], "").await;
    api.sim.create_task(1, "to 127.0.0.1");
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    let attempts = api.sim.deliveries();
    assert_eq!(attempts.len(), 6);
    assert!(attempts[5].dropped);
    assert!(
        matches!(&attempts[0].outcome, DeliveryOutcome::Error(e) if e.contains("allownonroutableips"))
    );
    assert!(rx.hits().is_empty());
}
