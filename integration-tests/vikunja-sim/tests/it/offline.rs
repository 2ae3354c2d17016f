//! Connection refused: the simulator closes its port (and open connections) and comes back
//! on the same one.

use std::time::Duration;

use vikunja_sim::Simulator;

use crate::helpers::{Api, eventually};

fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn answers(sim: &Simulator, client: &reqwest::Client) -> Result<u16, reqwest::Error> {
    client
        .get(format!("{}/api/v1/info", sim.base_url()))
        .send()
        .await
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn offline_refuses_connections_and_online_serves_the_same_port_again() {
    let api = Api::start().await;
    // A kept-alive connection from before the outage.
    assert_eq!(answers(&api.sim, &api.http).await.unwrap(), 200);

    api.sim.go_offline().await;
    assert!(!api.sim.is_online());
    let refused = answers(&api.sim, &fresh_client()).await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    assert!(
        answers(&api.sim, &api.http).await.is_err(),
        "open connections are cut"
    );
    api.sim.create_task(1, "made in the UI meanwhile");

    api.sim.go_online().await.unwrap();
    assert_eq!(answers(&api.sim, &fresh_client()).await.unwrap(), 200);
    assert_eq!(
        api.get("/tasks").await.json.as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn offline_for_a_while_comes_back_on_its_own() {
    let api = Api::start().await;
    api.sim.go_offline_for(Duration::from_secs(1)).await;
    assert!(answers(&api.sim, &fresh_client()).await.is_err());
    assert!(eventually(|| api.sim.is_online()).await);
    let client = fresh_client();
    let deadline = tokio::time::Instant::now() + crate::helpers::WAIT;
    while answers(&api.sim, &client).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "never came back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
