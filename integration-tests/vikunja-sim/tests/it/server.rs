//! Server settings: the version it claims, webhooks switched off.

use serde_json::json;
use vikunja_sim::SimConfig;

use crate::helpers::{Api, Receiver};

#[tokio::test]
async fn info_and_deliveries_carry_the_configured_version() {
    let api = Api::with(SimConfig {
        version: "v2.4.1".into(),
        ..SimConfig::default()
    })
    .await;
    let rx = Receiver::start().await;
    assert_eq!(api.get("/info").await.json["version"], "v2.4.1");
    api.hook(1, &rx.url, &["task.created"], "").await;
    api.sim.create_task(1, "x");
    assert_eq!(
        rx.wait_for(1).await[0].headers["user-agent"],
        "Vikunja/v2.4.1"
    );
}

#[tokio::test]
async fn with_webhooks_disabled_their_routes_do_not_exist() {
    let api = Api::with(SimConfig {
        webhooks_enabled: false,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(api.get("/info").await.json["webhooks_enabled"], false);
    let r = api
        .put(
            "/projects/1/webhooks",
            json!({"target_url": "http://127.0.0.1:9/x", "events": ["task.created"]}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(api.get("/projects/1/webhooks").await.status, 404);
    assert_eq!(api.get("/webhooks/events").await.status, 404);
    assert!(api.sim.webhooks(1).is_empty());
}
