//! `vikunja-sync up` on one machine: its own nats-server, every service as its own process
//! (each reporting its own `service.name`, traces joined across them), a change each way, and
//! a clean stop on SIGTERM.

use std::time::Duration;

use vsync_e2e::otlp::{Collector, Span};
use vsync_e2e::procs::{bin, free_port};
use vsync_e2e::*;
use vsync_harness::{ServiceProcess, TwHost};

/// The one span matching `pred`, with `what` in the failure.
fn find<'a>(spans: &'a [Span], what: &str, pred: impl Fn(&Span) -> bool) -> &'a Span {
    spans
        .iter()
        .find(|s| pred(s))
        .unwrap_or_else(|| panic!("no span for {what} among {} spans", spans.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_each_service_as_itself_on_its_own_bus_and_stops_on_sigterm() {
    trace_init();
    let collector = Collector::start().await;
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let home = sim.create_project("Home", 0);
    let host = TwHost::new("solo");
    vikunja_sync::hook::install(&host.data_dir(), None, Some(&hook_bin()), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::write(dir.path().join("secret"), "up-secret").unwrap();
    let port = free_port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\nwebhook_url = \"http://127.0.0.1:{port}/webhook\"\n\
             [ingress]\nlisten = \"127.0.0.1:{port}\"\n[taskwarrior]\nhost = \"solo\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n\
             [telemetry]\notlp_endpoint = \"{}\"\n",
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display(),
            collector.endpoint(),
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let (state_env, config_arg) = (state.display().to_string(), config.display().to_string());
    let up = tokio::task::spawn_blocking(move || {
        ServiceProcess::start_args(
            &bin("vikunja-sync"),
            &["--config", &config_arg, "up"],
            // Spans exported at once instead of every 5 s.
            &[
                ("XDG_STATE_HOME", &state_env),
                ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ],
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    assert!(
        state.join("vikunja-sync/nats/jetstream").is_dir(),
        "the local bus keeps its data in the state directory"
    );
    webhook_registered_in(&sim, home.id).await;

    // Vikunja -> the host, and the host (a tagged task) -> Vikunja.
    let from_vikunja = sim.create_task(home.id, "through up");
    wait_task(&host, "the Vikunja task", |t| {
        s(t, "description") == "through up"
    })
    .await;
    host.add(&["tagged on solo", "project:Home", "+errand"]);
    let sim2 = sim.clone();
    vsync_harness::wait_for("the tagged task in Vikunja", PROPAGATION, move || {
        sim2.tasks().into_iter().find(|t| {
            t.title == "tagged on solo" && t.labels.as_ref().is_some_and(|l| l.len() == 1)
        })
    })
    .await;

    let id = from_vikunja.id.to_string();
    let spans = vsync_harness::wait_for_async("the spans of both changes", PROPAGATION, || async {
        let spans = collector.spans();
        let has = |svc: &str, name: &str| {
            spans
                .iter()
                .any(|s| s.service == svc && s.name.starts_with(name))
        };
        (has("webhook-ingress", "publish vsync.v1.in.vikunja")
            && has("tw-watcher", "process $KV")
            && has("tw-watcher", "publish vsync.v1.in.tw")
            && has("label-sync", "process vsync.v1.ctl.labels.apply"))
        .then_some(spans)
    })
    .await;
    let child_of = |c: &Span, p: &Span| c.trace_id == p.trace_id && c.parent_span_id == p.span_id;

    // Vikunja -> Taskwarrior: one trace through webhook-ingress, reconciler and tw-watcher.
    let publish = find(&spans, "ingress publish", |s| {
        s.name.starts_with("publish vsync.v1.in.vikunja")
            && s.attr("vikunja.task_id") == Some(id.as_str())
    });
    let merged = find(&spans, "the reconciler's merge", |s| child_of(s, publish));
    let applied = find(&spans, "the host's apply", |s| child_of(s, merged));
    assert_eq!(
        [&publish.service, &merged.service, &applied.service],
        ["webhook-ingress", "reconciler", "tw-watcher"]
    );
    assert_eq!(applied.instance, "solo");

    // Taskwarrior -> Vikunja: one trace through tw-watcher, reconciler (and its Vikunja call,
    // made in the shared client crate) and label-sync (and its calls).
    let published = find(&spans, "the host's publish", |s| {
        s.name.starts_with("publish vsync.v1.in.tw")
    });
    let merged = find(&spans, "the reconciler's merge", |s| child_of(s, published));
    let create = find(&spans, "the Vikunja create", |s| {
        s.name == "PUT /api/v1/projects/{id}/tasks" && child_of(s, merged)
    });
    let labels = find(&spans, "label-sync", |s| {
        s.name.starts_with("process vsync.v1.ctl.labels") && child_of(s, merged)
    });
    let label_call = find(&spans, "label-sync's API call", |s| child_of(s, labels));
    assert_eq!(
        [
            &published.service,
            &merged.service,
            &create.service,
            &labels.service,
            &label_call.service
        ],
        [
            "tw-watcher",
            "reconciler",
            "reconciler",
            "label-sync",
            "label-sync"
        ]
    );
    let services: std::collections::BTreeSet<&str> =
        spans.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(
        services,
        ["label-sync", "reconciler", "tw-watcher", "webhook-ingress"].into(),
        "every span under the service that made it, none under `vikunja-sync`"
    );

    let status = tokio::task::spawn_blocking(move || up.terminate(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !state.join("vikunja-sync/bus-url").exists(),
        "the local bus is gone, and so is its URL"
    );
}
