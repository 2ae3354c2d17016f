//! Every message the bus publishes on `vsync.v1.>` and `$KV.vsync_tasks.>` carries a W3C
//! `traceparent`, also when the caller is in no span at all (a reconcile pass, a retry): each
//! publish runs in a publish span of its own. (Its own test binary: it installs the global
//! tracing subscriber and propagator, as a service does when an OTLP endpoint is configured.)
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use vsync_bus::control::reconciler::{AdoptRequest, ReconcileRequest};
use vsync_bus::trace::is_valid_traceparent;
use vsync_bus::{Bus, BusConfig, Stage, subject};
use vsync_harness::NatsServer;
use vsync_proto::{
    Conflict, EventKind, HostApplied, LabelWork, Origin, TaskEvent, TaskState, TaskwarriorChange,
    task_event,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_published_carries_a_traceparent() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .init();

    let nats = NatsServer::start();
    let bus = Bus::connect(
        &BusConfig::new(&nats.url(), "traceparent-test")
            .with_credentials(nats.server_credentials()),
    )
    .await
    .unwrap();
    let raw = async_nats::ConnectOptions::with_nkey(nats.seed(&vsync_bus::Role::Server))
        .connect(nats.url())
        .await
        .unwrap();
    let mut seen = futures::stream::select(
        raw.subscribe("vsync.v1.>").await.unwrap(),
        raw.subscribe(subject::STATE_ALL).await.unwrap(),
    );
    raw.flush().await.unwrap();
    // A host following canonical state, so requests to every host expect one answer.
    let _host = bus.follow_states("desk").await.unwrap();

    let uuid = "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11";
    let event = TaskEvent {
        origin: Origin::Taskwarrior as i32,
        kind: EventKind::Created as i32,
        host: "desk".into(),
        change: Some(task_event::Change::Taskwarrior(TaskwarriorChange {
            uuid: uuid.into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let short = Duration::from_millis(200);
    let mut expected = vec![
        subject::tw_task("desk", "Home", EventKind::Created),
        subject::state(uuid),
        subject::dead("reconciler"),
        subject::conflict(uuid),
        subject::applied("desk"),
        subject::CTL_LABELS_APPLY.to_string(),
        "vsync.v1.ctl.reconciler.reconcile".to_string(),
        "vsync.v1.ctl.reconciler.repair".to_string(),
        "vsync.v1.ctl.reconciler.adopt".to_string(),
        subject::CTL_HOSTS_RECONCILE.to_string(),
        "vsync.v1.ctl.tw.desk.export".to_string(),
        "vsync.v1.ctl.tw.desk.rekey".to_string(),
    ];
    bus.publish_event(&expected[0], "id-1", &event)
        .await
        .unwrap();
    let state = TaskState {
        uuid: uuid.into(),
        ..Default::default()
    };
    bus.store_state(&state, None).await.unwrap();
    bus.dead_letter(Stage::Reconciler, "x", b"y", "z", 0)
        .await
        .unwrap();
    bus.record_conflict(&Conflict {
        uuid: uuid.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    bus.announce_applied(&HostApplied {
        host: "desk".into(),
        uuid: uuid.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    // Nobody answers these but the test's own subscription: each goes out, then times out.
    let _ = bus.apply_labels(&LabelWork::default(), short).await;
    let _ = bus.reconcile(ReconcileRequest::default(), short).await;
    let _ = bus.repair(short).await;
    let _ = bus.adopt(AdoptRequest::default(), short).await;
    let _ = bus.reconcile_hosts(short).await;
    let _ = bus.host_tasks("desk", short).await;
    let _ = bus.rekey("desk", &[], short).await;

    let mut got = Vec::new();
    while got.len() < expected.len() {
        let m = tokio::time::timeout(Duration::from_secs(5), seen.next())
            .await
            .unwrap_or_else(|_| panic!("only {got:?} arrived"))
            .unwrap();
        let traceparent = m
            .headers
            .as_ref()
            .and_then(|h| h.get("traceparent"))
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        assert!(
            is_valid_traceparent(&traceparent),
            "{} carries no valid traceparent: {traceparent:?}",
            m.subject
        );
        got.push(m.subject.to_string());
    }
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}
