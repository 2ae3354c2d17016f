//! The event streams' size limits on a real nats-server: a full event stream refuses new events
//! with an error (none dropped, the oldest kept), canonical state is still written beside it,
//! `status` names the stream that is nearly full, and a stream declared without limits by an
//! older version gets them.
#![allow(clippy::unwrap_used)]

use vsync_bus::{Bus, BusConfig, Cas, StreamLimits, subject};
use vsync_harness::NatsServer;
use vsync_proto::{EventKind, Origin, TaskEvent, TaskState, TaskwarriorChange};

async fn bus(nats: &NatsServer, limits: StreamLimits) -> Bus {
    let mut cfg =
        BusConfig::new(&nats.url(), "limits-test").with_credentials(nats.server_credentials());
    cfg.limits = limits;
    Bus::connect(&cfg).await.unwrap()
}

/// An event of about 64 KiB.
fn big_event(n: usize) -> TaskEvent {
    TaskEvent {
        origin: Origin::Taskwarrior as i32,
        kind: EventKind::Updated as i32,
        change: Some(vsync_proto::task_event::Change::Taskwarrior(
            TaskwarriorChange {
                uuid: format!("00000000-0000-4000-8000-{n:012}"),
                task_json: "x".repeat(64 * 1024),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_full_event_stream_refuses_new_events_and_drops_none() {
    let nats = NatsServer::start();
    let bus = bus(&nats, StreamLimits::from_mib(1, 1)).await;
    let s = subject::tw_task("lap", "Home", EventKind::Updated);
    let mut stored = 0;
    let refused = loop {
        match bus
            .publish_event(&s, &format!("id-{stored}"), &big_event(stored))
            .await
        {
            Ok(true) => stored += 1,
            Ok(false) => panic!("not a duplicate"),
            Err(e) => break e,
        }
        assert!(
            stored < 100,
            "a 1 MiB stream took {stored} events of 64 KiB"
        );
    };
    assert!(
        (10..=16).contains(&stored),
        "{stored} events of 64 KiB in 1 MiB"
    );
    let reason = refused.to_string();
    assert!(reason.contains(&s), "the error names the subject: {reason}");

    // Every stored event is still there, from the first one.
    let use_ = bus.stream_use().await.unwrap();
    let events = use_
        .iter()
        .find(|u| u.stream == vsync_bus::EVENTS_STREAM)
        .unwrap();
    assert_eq!(events.messages, stored as u64);
    assert_eq!(events.max_bytes, Some(1 << 20));
    assert!(events.nearly_full(), "{events}");

    // Canonical state lives apart and is still written.
    let st = TaskState {
        uuid: "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11".into(),
        version: 1,
        ..Default::default()
    };
    assert!(matches!(
        bus.store_state(&st, None).await.unwrap(),
        Cas::Written(_)
    ));

    let status = bus.status(5).await.unwrap().to_string();
    let first = status.lines().next().unwrap();
    assert!(
        first.starts_with("stream VSYNC_IN:") && first.contains("nearly full"),
        "{status}"
    );
    assert!(
        status.contains("VSYNC_DEAD: 0.0 MiB of 1 MiB (0%)\n"),
        "{status}"
    );
}

#[tokio::test]
async fn a_stream_declared_without_limits_gets_them() {
    let nats = NatsServer::start();
    let raw = async_nats::ConnectOptions::with_nkey(nats.seed(&vsync_bus::Role::Server))
        .connect(nats.url())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(raw);
    // As an older version declared it: age only.
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: vsync_bus::EVENTS_STREAM.to_string(),
        subjects: vec![subject::IN_ALL.to_string()],
        max_age: std::time::Duration::from_secs(7 * 24 * 3600),
        ..Default::default()
    })
    .await
    .unwrap();
    let bus = bus(&nats, StreamLimits::from_mib(8, 2)).await;
    let use_ = bus.stream_use().await.unwrap();
    let max = |name: &str| use_.iter().find(|u| u.stream == name).unwrap().max_bytes;
    assert_eq!(max(vsync_bus::EVENTS_STREAM), Some(8 << 20));
    assert_eq!(max(vsync_bus::DEAD_STREAM), Some(2 << 20));
    let mut s = js.get_stream(vsync_bus::EVENTS_STREAM).await.unwrap();
    let cfg = s.info().await.unwrap().config.clone();
    assert_eq!(
        cfg.discard,
        async_nats::jetstream::stream::DiscardPolicy::New
    );
}
