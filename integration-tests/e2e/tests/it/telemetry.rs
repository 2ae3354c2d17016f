//! One trace per change across every hop, exported over OTLP/gRPC by each service process to an
//! in-process receiver; every message on the bus carrying its trace context; and the latency
//! histograms on `/metrics`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vsync_e2e::otlp::{Collector, Span};
use vsync_e2e::procs::{bin, free_port};
use vsync_e2e::*;
use vsync_harness::{NatsServer, ServiceProcess, TwHost};

async fn metrics(port: u16) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn count(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn one<'a>(spans: &'a [Span], what: &str, pred: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| pred(s)).collect();
    assert!(!found.is_empty(), "no span for {what}");
    found[0]
}

fn child_of(child: &Span, parent: &Span) -> bool {
    child.trace_id == parent.trace_id && child.parent_span_id == parent.span_id
}

/// `child` is processing what `parent` published: its parent is a `publish` span of `parent`.
fn published_by(spans: &[Span], child: &Span, parent: &Span, publish: &str) -> bool {
    spans.iter().any(|p| {
        p.service == parent.service
            && p.name == format!("publish {publish}")
            && child_of(p, parent)
            && child_of(child, p)
    })
}

/// Every message on `vsync.v1.>` and `$KV.vsync_tasks.>` from now on: (subject, traceparent).
async fn record_bus(nats: &NatsServer) -> Arc<Mutex<Vec<(String, String)>>> {
    use futures::StreamExt;
    let client = async_nats::ConnectOptions::with_nkey(nats.seed(&vsync_bus::Role::Server))
        .connect(nats.url())
        .await
        .unwrap();
    let mut all = futures::stream::select(
        client.subscribe("vsync.v1.>").await.unwrap(),
        client
            .subscribe(vsync_bus::subject::STATE_ALL)
            .await
            .unwrap(),
    );
    client.flush().await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Some(m) = all.next().await {
            let traceparent = m
                .headers
                .as_ref()
                .and_then(|h| h.get("traceparent"))
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            out.lock()
                .unwrap()
                .push((m.subject.to_string(), traceparent));
        }
    });
    seen
}

fn nested(child: &Span, parent: &Span) {
    assert!(
        child_of(child, parent),
        "{} is not a child of {}",
        child.name,
        parent.name
    );
    assert!(
        child.start_ns >= parent.start_ns && child.end_ns <= parent.end_ns,
        "{} ({}..{}) is not within {} ({}..{})",
        child.name,
        child.start_ns,
        child.end_ns,
        parent.name,
        parent.start_ns,
        parent.end_ns
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_per_change_across_every_service_every_message_traced_and_latency_metrics() {
    let collector = Collector::start().await;
    let nats = NatsServer::start();
    let bus_messages = record_bus(&nats).await;
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let home = sim.create_project("Home", 0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::write(dir.path().join("secret"), "trace-secret").unwrap();
    let ingress_port = free_port();
    // each with its own identity, as in production
    let common = |credentials: std::path::PathBuf| {
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[telemetry]\notlp_endpoint = \"{}\"\n",
            nats.url(),
            credentials.display(),
            collector.endpoint()
        )
    };
    let server = |metrics_port: u16| {
        let common = common(nats.server_credentials());
        format!(
            "{common}[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\n\
             webhook_url = \"http://127.0.0.1:{ingress_port}/webhook\"\n[ingress]\nlisten = \"127.0.0.1:{ingress_port}\"\n\
             metrics_listen = \"127.0.0.1:{metrics_port}\"\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n",
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display()
        )
    };
    // Export quickly instead of every 5 s.
    let env = [("OTEL_BSP_SCHEDULE_DELAY", "50")];
    let mut procs = Vec::new();
    let reconciler_metrics = free_port();
    for (name, port) in [
        ("webhook-ingress", free_port()),
        ("label-sync", free_port()),
        ("reconciler", reconciler_metrics),
    ] {
        let cfg = dir.path().join(format!("{name}.toml"));
        std::fs::write(&cfg, server(port)).unwrap();
        procs.push(ServiceProcess::start_with_env(
            &bin(name),
            &cfg,
            &env,
            Duration::from_secs(30),
        ));
    }
    let mut hosts = Vec::new();
    let mut host_metrics = Vec::new();
    for name in ["laptop", "desk"] {
        let h = TwHost::new(name);
        vikunja_sync::hook::install(&h.data_dir(), None, Some(&hook_bin()), false).unwrap();
        let port = free_port();
        let cfg = dir.path().join(format!("{name}.toml"));
        let common = common(nats.host_credentials(name));
        std::fs::write(
            &cfg,
            format!(
                "{common}[taskwarrior]\nhost = \"{name}\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n",
                h.data_dir().display(),
                h.taskrc().display(),
                h.task_bin().display()
            ),
        )
        .unwrap();
        procs.push(ServiceProcess::start_with_env(
            &bin("tw-watcher"),
            &cfg,
            &env,
            Duration::from_secs(30),
        ));
        hosts.push(h);
        host_metrics.push(port);
    }
    let sim2 = sim.clone();
    vsync_harness::wait_for("webhook registration", PROPAGATION, move || {
        (!sim2.webhooks(home.id).is_empty()).then_some(())
    })
    .await;

    // Change 1: from Vikunja to both hosts.
    let from_vikunja = sim.create_task(home.id, "traced from Vikunja");
    for h in &hosts {
        wait_task(h, "change 1", |t| {
            s(t, "description") == "traced from Vikunja"
        })
        .await;
    }
    // Change 2: from the laptop, with a tag, to Vikunja and the desk.
    hosts[0].add(&["traced from TW", "project:Home", "+errand"]);
    let sim2 = sim.clone();
    vsync_harness::wait_for(
        "change 2 in Vikunja with its label",
        PROPAGATION,
        move || {
            sim2.tasks().into_iter().find(|t| {
                t.title == "traced from TW" && t.labels.as_ref().is_some_and(|l| l.len() == 1)
            })
        },
    )
    .await;
    wait_task(&hosts[1], "change 2", |t| {
        s(t, "description") == "traced from TW"
    })
    .await;

    // Every span of both changes, once exported.
    let spans = vsync_harness::wait_for_async("the spans of both changes", PROPAGATION, || async {
        let spans = collector.spans();
        let has = |svc: &str, inst: &str, name: &str| {
            spans
                .iter()
                .filter(|s| {
                    s.service == svc
                        && (inst.is_empty() || s.instance == inst)
                        && s.name.starts_with(name)
                })
                .count()
        };
        (has("tw-watcher", "desk", "process $KV") >= 2
            && has("tw-watcher", "laptop", "process $KV") >= 2
            && has("label-sync", "", "process vsync.v1.ctl.labels.apply") >= 1
            && has("reconciler", "", "process vsync.v1.in.tw.*.*.task") >= 1)
            .then_some(spans)
    })
    .await;

    // Change 1: ingress -> reconciler -> each host, parent to child, one trace.
    let id = from_vikunja.id.to_string();
    let publish = one(&spans, "ingress publish", |s| {
        s.service == "webhook-ingress"
            && s.name == "publish vsync.v1.in.vikunja.*.task.created"
            && s.attr("vikunja.task_id") == Some(id.as_str())
    });
    let webhook = one(&spans, "the webhook request", |s| {
        s.service == "webhook-ingress" && s.span_id == publish.parent_span_id
    });
    assert_eq!(webhook.name, "POST /webhook");
    nested(publish, webhook);
    let merged = one(&spans, "reconciler process", |s| {
        s.service == "reconciler" && child_of(s, publish)
    });
    assert_eq!(merged.name, "process vsync.v1.in.vikunja.*.task.created");
    for host in ["laptop", "desk"] {
        let apply = one(&spans, host, |s| {
            s.service == "tw-watcher"
                && s.instance == host
                && published_by(&spans, s, merged, "$KV.vsync_tasks.*")
        });
        assert_eq!(apply.name, "process $KV.vsync_tasks.*");
    }

    // Change 2: laptop -> reconciler -> Vikunja API call, label-sync (and its calls) -> desk.
    let root = one(&spans, "laptop publish", |s| {
        s.service == "tw-watcher"
            && s.instance == "laptop"
            && s.name == "publish vsync.v1.in.tw.*.*.task.created"
    });
    let merged = one(&spans, "reconciler process", |s| {
        s.service == "reconciler" && child_of(s, root)
    });
    let create = one(&spans, "the Vikunja create", |s| {
        s.name == "PUT /api/v1/projects/{id}/tasks" && child_of(s, merged)
    });
    nested(create, merged);
    let labels = one(&spans, "label-sync", |s| {
        s.service == "label-sync" && published_by(&spans, s, merged, "vsync.v1.ctl.labels.apply")
    });
    assert_eq!(labels.name, "process vsync.v1.ctl.labels.apply");
    let label_calls: Vec<&Span> = spans
        .iter()
        .filter(|s| s.service == "label-sync" && child_of(s, labels))
        .collect();
    assert!(
        !label_calls.is_empty(),
        "label-sync's API calls are in the trace"
    );
    for c in label_calls {
        nested(c, labels);
    }
    one(&spans, "the desk's apply", |s| {
        s.service == "tw-watcher"
            && s.instance == "desk"
            && published_by(&spans, s, merged, "$KV.vsync_tasks.*")
    });
    let traces: std::collections::BTreeSet<&Vec<u8>> = spans
        .iter()
        .filter(|s| {
            s.parent_span_id == root.span_id
                || s.parent_span_id == merged.span_id
                || s.span_id == root.span_id
                || published_by(&spans, s, merged, "$KV.vsync_tasks.*")
        })
        .map(|s| &s.trace_id)
        .collect();
    assert_eq!(traces.len(), 1, "one trace for the change");
    assert!(
        spans.iter().all(|s| !s.service.is_empty()),
        "every span names its service"
    );

    // Every message the services published, both ways, carried its trace context.
    let messages = bus_messages.lock().unwrap().clone();
    for kind in [
        "vsync.v1.in.vikunja.",
        "vsync.v1.in.tw.",
        "$KV.vsync_tasks.",
        "vsync.v1.ctl.labels.apply",
        "vsync.v1.applied.",
    ] {
        assert!(
            messages.iter().any(|(s, _)| s.starts_with(kind)),
            "no message on {kind}*: {messages:?}"
        );
    }
    for (subject, traceparent) in &messages {
        assert!(
            vsync_bus::trace::is_valid_traceparent(traceparent),
            "{subject} went out without a valid traceparent: {traceparent:?}"
        );
    }

    // The latency histograms, by direction.
    let r = metrics(reconciler_metrics).await;
    assert!(
        count(
            &r,
            "vsync_e2e_latency_seconds_count{direction=\"tw_to_vikunja\"}"
        ) >= 1,
        "{r}"
    );
    assert!(r.contains("vsync_vikunja_api_calls_total{method=\"PUT\",route=\"/projects/{id}/tasks\",status=\"201\"}") || r.contains("route=\"/projects/{id}/tasks\""), "{r}");
    let desk = metrics(host_metrics[1]).await;
    assert!(
        count(
            &desk,
            "vsync_e2e_latency_seconds_count{direction=\"vikunja_to_tw\"}"
        ) >= 1,
        "{desk}"
    );
    assert!(
        count(
            &desk,
            "vsync_e2e_latency_seconds_count{direction=\"tw_to_tw\"}"
        ) >= 1,
        "{desk}"
    );
    for p in procs {
        assert!(p.terminate(Duration::from_secs(15)).success());
    }
}
