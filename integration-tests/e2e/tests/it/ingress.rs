//! webhook-ingress fails closed: no secret, no start; forged, unsigned, replayed and oversized
//! webhooks are refused and publish nothing; hostile event names cannot break `/metrics`.

use std::process::Command;

use serde_json::json;
use vsync_e2e::procs::bin;
use vsync_e2e::*;

const SECRET: &str = "demo-webhook-secret";

/// A webhook body for a new task, sent `age_s` seconds ago.
fn task_created(id: i64, age_s: i64) -> String {
    let sent = time::OffsetDateTime::now_utc() - time::Duration::seconds(age_s);
    let sent = sent
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    json!({"event_name": "task.created", "time": sent,
        "data": {"task": {"id": id, "project_id": 1, "title": "forged", "updated": sent}}})
    .to_string()
}

async fn post(url: &str, body: &[u8], signature: Option<&str>) -> (u16, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("X-Vikunja-Signature", sig);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

fn sign(body: &[u8]) -> String {
    webhook_ingress::verify::sign(SECRET, body)
}

async fn metrics(sys: &System) -> String {
    reqwest::get(format!("http://{}/metrics", sys.ingress_metrics))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[test]
fn without_a_secret_it_refuses_to_start_with_exit_64() {
    let nats = vsync_harness::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ingress.toml");
    std::fs::write(
        &config,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[ingress]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n",
            nats.url(),
            nats.server_credentials().display()
        ),
    )
    .unwrap();
    let out = Command::new(bin("webhook-ingress"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("vikunja.webhook_secret_file"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_unsigned_stale_and_oversized_webhooks_are_refused_and_publish_nothing() {
    let sys = system(&[], &["Home"]).await;
    let url = format!("http://{}/webhook", sys.ingress);
    let body = task_created(99, 0);
    let forged = webhook_ingress::verify::sign("not-the-secret", body.as_bytes());
    for sig in [Some(forged.as_str()), None, Some("zz")] {
        assert_eq!(
            post(&url, body.as_bytes(), sig).await.0,
            401,
            "signature {sig:?}"
        );
    }
    // signed, but sent ten minutes ago: a replay past `[ingress] max_age`
    let stale = task_created(98, 600);
    let (status, text) = post(&url, stale.as_bytes(), Some(&sign(stale.as_bytes()))).await;
    assert_eq!((status, text.as_str()), (400, "stale webhook\n"));
    // over `[ingress] max_body_bytes`, signed or not
    let huge = vec![b' '; 2 << 20];
    assert_eq!(post(&url, &huge, Some(&sign(&huge))).await.0, 413);
    // not a Vikunja event: 400 with the reason
    let junk = b"{\"hello\":1}";
    let (status, text) = post(&url, junk, Some(&sign(junk))).await;
    assert_eq!(status, 400);
    assert!(text.contains("event_name"), "{text}");

    let js = jetstream(&sys).await;
    let mut stream = js.get_stream(vsync_bus::EVENTS_STREAM).await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        0,
        "nothing reached the bus"
    );
    let m = metrics(&sys).await;
    assert!(
        m.contains("vsync_webhooks_total{outcome=\"refused\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("vsync_webhooks_total{outcome=\"stale\"} 1"),
        "{m}"
    );

    // The same body signed with the right secret is accepted: the checks above can fail.
    assert_eq!(
        post(&url, body.as_bytes(), Some(&sign(body.as_bytes())))
            .await
            .0,
        200
    );
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_stay_valid_exposition_format_after_hostile_event_names() {
    let sys = system(&[], &["Home"]).await;
    let url = format!("http://{}/webhook", sys.ingress);
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for name in [
        "x\"} 1\nvsync_evil_total 9\n# TYPE",
        "a\\b",
        "{}",
        "task.comment.created",
    ] {
        let body =
            json!({"event_name": name, "time": now, "data": {"task": {"id": 1}}}).to_string();
        let (status, _) = post(&url, body.as_bytes(), Some(&sign(body.as_bytes()))).await;
        assert_eq!(status, 200, "{name:?}");
    }
    let m = metrics(&sys).await;
    for line in m.lines() {
        assert!(valid_exposition_line(line), "invalid line {line:?} in\n{m}");
    }
    assert!(!m.contains("vsync_evil"), "{m}");
    assert!(
        m.contains("vsync_webhooks_ignored_total{event=\"other\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("vsync_webhooks_ignored_total{event=\"task.comment.created\"} 1"),
        "{m}"
    );
    sys.shutdown().await.unwrap();
}

/// One line of Prometheus' text format: a `# HELP`/`# TYPE` comment, or `name{labels} value`
/// with every label value a quoted string whose escapes are `\\`, `\"` and `\n`.
fn valid_exposition_line(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix("# ") {
        return rest.starts_with("HELP ") || rest.starts_with("TYPE ");
    }
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    if name_end == 0 {
        return false;
    }
    let mut rest = &line[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        let mut chars = labels.char_indices().peekable();
        // name="value", ... }
        let end = loop {
            let start = match chars.peek() {
                Some((i, _)) => *i,
                None => return false,
            };
            let key_len = labels[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(0);
            if key_len == 0 || !labels[start + key_len..].starts_with("=\"") {
                return false;
            }
            for _ in 0..key_len + 2 {
                chars.next();
            }
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\' | '"' | 'n')) => {}
                        _ => return false,
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) | None => return false,
                    Some(_) => {}
                }
            }
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => break i + 1,
                _ => return false,
            }
        };
        rest = &labels[end..];
    }
    rest.strip_prefix(' ')
        .is_some_and(|v| v.parse::<f64>().is_ok() || v == "+Inf")
}

#[test]
fn the_exposition_check_can_fail() {
    assert!(valid_exposition_line(
        r#"vsync_x_total{a="b\"c",d="e\\f\ng"} 1"#
    ));
    assert!(valid_exposition_line("# TYPE vsync_x_total counter"));
    for bad in [
        r#"vsync_x_total{a="b"c"} 1"#,
        r#"vsync_x_total{a="b} 1"#,
        r#"vsync_x_total{a="b\x"} 1"#,
        r#"x"} 1"#,
        "vsync_x_total 1 2",
    ] {
        assert!(!valid_exposition_line(bad), "{bad}");
    }
}
