//! Fault injection on API requests and the request log.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use vikunja_sim::{Fault, RateLimit, Requests, SimConfig, When};

use crate::helpers::{Api, Receiver, WAIT, eventually};

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

const CREATE: &str = "PUT /api/v1/projects/{id}/tasks";

#[tokio::test]
async fn a_lost_response_commits_the_change_and_drops_the_connection() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created"], "").await;
    let lost = api
        .sim
        .inject(Requests::to(CREATE), Fault::LoseResponse, When::Next(1));

    let err = api
        .http
        .put(api.url("/projects/1/tasks"))
        .bearer_auth(api.sim.token())
        .json(&json!({"title": "committed"}))
        .send()
        .await
        .expect_err("the answer never comes");
    assert!(!err.is_timeout() && !err.is_connect(), "{err:?}");
    let tasks = api.sim.tasks();
    assert_eq!(tasks.len(), 1, "the create was committed");
    assert_eq!(tasks[0].title, "committed");
    assert_eq!(rx.wait_for(1).await[0].event(), "task.created");
    let log = api.sim.requests();
    let create = log
        .iter()
        .find(|r| r.route == "/api/v1/projects/{id}/tasks")
        .unwrap();
    assert_eq!(
        (create.status, create.faults.clone()),
        (201, vec![Fault::LoseResponse])
    );
    assert_eq!(api.sim.fault_hits(lost), 1);

    let again = api
        .put("/projects/1/tasks", json!({"title": "answered"}))
        .await;
    assert_eq!(again.status, 201, "only the next one was lost");
}

#[tokio::test]
async fn a_late_answer_outlasts_the_client_timeout_after_the_change_was_made() {
    let api = Api::start().await;
    api.sim.inject(
        Requests::to(CREATE),
        Fault::AnswerLate(Duration::from_secs(2)),
        When::Next(1),
    );
    let err = api
        .http
        .put(api.url("/projects/1/tasks"))
        .bearer_auth(api.sim.token())
        .timeout(Duration::from_millis(200))
        .json(&json!({"title": "slow"}))
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        eventually(|| api.sim.tasks().len() == 1).await,
        "the change was made anyway"
    );
}

#[tokio::test]
async fn latency_can_slow_one_route_of_one_project() {
    let api = Api::start().await;
    let slow = api.sim.create_project("Slow", 0);
    let fast = api.sim.create_project("Fast", 0);
    let slow_task = api.sim.create_task(slow.id, "in the slow project");
    let d = Duration::from_millis(300);
    api.sim.inject(
        Requests::all().in_project(slow.id),
        Fault::Latency(d),
        When::Always,
    );

    let started = Instant::now();
    assert_eq!(
        api.get(&format!("/projects/{}/tasks", slow.id))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("/tasks/{}", slow_task.id)).await.status,
        200
    );
    assert!(
        started.elapsed() >= 2 * d,
        "both are about the slow project"
    );
    assert_eq!(
        api.get(&format!("/projects/{}/tasks", fast.id))
            .await
            .status,
        200
    );
    assert_eq!(api.get("/tasks").await.status, 200);
    let delayed: Vec<bool> = api
        .sim
        .requests()
        .iter()
        .map(|r| r.faults == vec![Fault::Latency(d)])
        .collect();
    assert_eq!(delayed, [true, true, false, false]);
}

#[tokio::test]
async fn a_status_can_hit_only_the_nth_call() {
    let api = Api::start().await;
    api.sim.inject(
        Requests::to("GET /api/v1/tasks"),
        Fault::status(502),
        When::Nth(3),
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api.get("/tasks").await.status);
    }
    assert_eq!(statuses, [200, 200, 502, 200]);
    assert_eq!(
        api.get("/projects").await.status,
        200,
        "other routes never matched"
    );
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let api = Api::start().await;
    api.sim.inject(
        Requests::all(),
        Fault::too_many_requests(Duration::from_secs(7)),
        When::Next(2),
    );
    for _ in 0..2 {
        let r = api
            .put("/projects/1/tasks", json!({"title": "refused"}))
            .await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), "7");
        assert_eq!(r.json, json!({"message": "Too Many Requests"}));
    }
    assert!(api.sim.tasks().is_empty());
    assert_eq!(api.get("/tasks").await.status, 200);
}

#[tokio::test]
async fn an_outage_answers_503_until_it_ends() {
    let api = Api::start().await;
    let outage = api.sim.inject(
        Requests::all(),
        Fault::status(503),
        When::For(Duration::from_secs(1)),
    );
    let r = api
        .put("/projects/1/tasks", json!({"title": "during"}))
        .await;
    assert_eq!(r.status, 503);
    let deadline = Instant::now() + WAIT;
    let mut refused = 1;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while api.get("/projects").await.status == 503 {
        refused += 1;
        assert!(Instant::now() < deadline, "the outage never ended");
        tick.tick().await;
    }
    assert!(
        api.sim.tasks().is_empty(),
        "nothing changed during the outage"
    );
    assert_eq!(api.sim.fault_hits(outage), refused);
    assert!(api.sim.remove_fault(outage));
}

#[tokio::test]
async fn clear_faults_removes_every_rule() {
    let api = Api::start().await;
    api.sim
        .inject(Requests::all(), Fault::status(500), When::Always);
    api.sim
        .inject(Requests::all(), Fault::LoseResponse, When::Always);
    api.sim.clear_faults();
    assert_eq!(api.get("/tasks").await.status, 200);
}
