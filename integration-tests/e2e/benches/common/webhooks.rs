//! What the benchmarks send as Vikunja would: a `task.created` webhook and its signed POST.

/// The body of Vikunja's `task.created` webhook for `task` in `project`, sent now.
pub fn task_created(task: &vikunja_sim::Task, project: &serde_json::Value) -> String {
    serde_json::json!({"event_name": "task.created",
        "time": vikunja_sim::model::ts::format(time::OffsetDateTime::now_utc()),
        "data": {"task": task, "doer": {"id": 1, "username": "demo"}, "project": project}})
    .to_string()
}

/// POSTs `body` to the ingress at `url`, signed with `secret`; the ingress must take it.
pub async fn post_signed(http: &reqwest::Client, url: &str, secret: &str, body: String) {
    let sig = vikunja_sim::webhook_signature(secret, body.as_bytes());
    let res = http
        .post(url)
        .header("X-Vikunja-Signature", sig)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the ingress answers");
    assert_eq!(res.status(), 200);
}
