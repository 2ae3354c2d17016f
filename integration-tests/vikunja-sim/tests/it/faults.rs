//! Fault injection and the request log.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use vikunja_sim::{RateLimit, SimConfig};

use crate::helpers::Api;

#[tokio::test]
async fn rate_limit_answers_429_with_reset_header() {
    let api = Api::with(SimConfig {
        rate_limit: Some(RateLimit {
            limit: 3,
            period: Duration::from_secs(60),
        }),
        ..SimConfig::default()
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let r = api.get("/tasks").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-RateLimit-Limit"), "3");
        assert_eq!(r.header("X-RateLimit-Remaining"), remaining);
    }
    let r = api.get("/tasks").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json, json!({"message": "Too Many Requests"}));
    let reset: u64 = r.header("X-RateLimit-Reset").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 61,
        "reset {reset} vs now {now}"
    );

    api.sim.set_rate_limit(None);
    let r = api.get("/tasks").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("X-RateLimit-Limit").is_none());
}

#[tokio::test]
async fn fail_next_answers_the_status_before_any_change() {
    let api = Api::start().await;
    api.sim.fail_next(2, 503);
    for _ in 0..2 {
        let r = api
            .put("/projects/1/tasks", json!({"title": "never"}))
            .await;
        assert_eq!(r.status, 503);
        assert!(r.json["message"].is_string());
    }
    assert!(
        api.sim.tasks().is_empty(),
        "an injected failure changes nothing"
    );
    assert_eq!(
        api.put("/projects/1/tasks", json!({"title": "now"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn latency_delays_every_response() {
    let api = Api::start().await;
    api.sim.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(api.get("/projects").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    api.sim.set_latency(Duration::ZERO);
    let started = Instant::now();
    api.get("/projects").await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn request_log_records_route_templates_and_statuses() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "logged");
    api.get(&format!("/tasks/{}", t.id)).await;
    api.get("/tasks/4711").await;
    api.post(&format!("/tasks/{}?x=1", t.id), json!({"title": "changed"}))
        .await;
    api.http.get(api.url("/projects")).send().await.unwrap();
    let log = api.sim.requests();
    let rows: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.route.as_str(), r.status))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("GET", "/api/v1/tasks/{id}", 200),
            ("GET", "/api/v1/tasks/{id}", 404),
            ("POST", "/api/v1/tasks/{id}", 200),
            ("GET", "/api/v1/projects", 401),
        ]
    );
    assert_eq!(log[1].path, "/api/v1/tasks/4711");
    assert_eq!(log[2].query, "x=1");
    assert_eq!(log[2].body, r#"{"title":"changed"}"#);
    api.sim.clear_requests();
    assert!(api.sim.requests().is_empty());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let api = Api::start().await;
    assert_eq!(api.get("/projects").await.status, 200);
    api.sim.shutdown().await;
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(fresh.get(api.url("/info")).send().await.is_err());
    assert!(
        api.sim
            .wait_deliveries_idle(Duration::from_millis(10))
            .await
    );
}
