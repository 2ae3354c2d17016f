//! The bus against a real nats-server.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use vsync_bus::{Bus, BusConfig, Cas, StateChange, subject};
use vsync_harness::NatsServer;
use vsync_proto::{EventKind, Origin, TaskEvent, TaskState};

async fn bus(nats: &NatsServer) -> Bus {
    Bus::connect(
        &BusConfig::new(&nats.url(), "bus-test").with_credentials(nats.server_credentials()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn declaring_twice_is_harmless() {
    let nats = NatsServer::start();
    let _a = bus(&nats).await;
    let _b = bus(&nats).await;
}

#[tokio::test]
async fn the_same_message_id_is_stored_once() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let ev = TaskEvent {
        origin: Origin::Vikunja as i32,
        kind: EventKind::Updated as i32,
        ..Default::default()
    };
    let s = subject::vikunja_task(3, EventKind::Updated);
    assert!(bus.publish_event(&s, "id-1", &ev).await.unwrap());
    assert!(!bus.publish_event(&s, "id-1", &ev).await.unwrap());
    assert!(bus.publish_event(&s, "id-2", &ev).await.unwrap());
    let raw = async_nats::ConnectOptions::with_nkey(nats.seed(&vsync_bus::Role::Server))
        .connect(nats.url())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(raw);
    let mut stream = js.get_stream(vsync_bus::EVENTS_STREAM).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 2);
}

#[tokio::test]
async fn canonical_state_is_written_with_compare_and_set() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let mut st = TaskState {
        uuid: "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11".into(),
        version: 1,
        ..Default::default()
    };
    let Cas::Written(r1) = bus.store_state(&st, None).await.unwrap() else {
        panic!("first write must succeed")
    };
    assert_eq!(bus.store_state(&st, None).await.unwrap(), Cas::Stale);
    st.version = 2;
    let Cas::Written(r2) = bus.store_state(&st, Some(r1)).await.unwrap() else {
        panic!("write at the current revision must succeed")
    };
    assert_eq!(bus.store_state(&st, Some(r1)).await.unwrap(), Cas::Stale);
    let (loaded, rev) = bus.load_state(&st.uuid).await.unwrap().unwrap();
    assert_eq!((loaded.version, rev), (2, r2));
}

#[tokio::test]
async fn a_host_gets_the_latest_state_of_each_task_then_each_change_once() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    for (uuid, versions) in [("a", 3u64), ("b", 1)] {
        let mut rev = None;
        for v in 1..=versions {
            let st = TaskState {
                uuid: uuid.into(),
                version: v,
                ..Default::default()
            };
            rev = match bus.store_state(&st, rev).await.unwrap() {
                Cas::Written(r) => Some(r),
                Cas::Stale => panic!("stale"),
            };
        }
    }
    let mut msgs = bus.follow_states("laptop one").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let m = tokio::time::timeout(Duration::from_secs(5), msgs.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let StateChange::Stored(st) = m.state_change() else {
            panic!("a stored state")
        };
        seen.push((st.uuid.clone(), st.version));
        m.ack().await.unwrap();
    }
    seen.sort();
    assert_eq!(seen, [("a".to_string(), 3), ("b".to_string(), 1)]);
    assert_eq!(bus.hosts().await.unwrap(), ["laptop one"]);
}

/// Listing canonical state ends promptly while states keep being rewritten (a host reconciling
/// while the reconciler lands 50 changes hung for 15 s and more: the pending count it waited to
/// reach 0 can stay above 0), and still holds every task (a rewritten key's older revision is
/// removed before it is delivered: the listing read 18 or 19 of 20 before it filled the gaps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_all_states_ends_while_states_keep_being_rewritten() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let state = |i: u32, version: u64| TaskState {
        uuid: format!("00000000-0000-4000-8000-{i:012}"),
        version,
        ..Default::default()
    };
    for i in 0..20 {
        bus.store_state(&state(i, 1), None).await.unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (bus, stop) = (bus.clone(), stop.clone());
        tokio::spawn(async move {
            let mut version = 2;
            while !stop.load(Ordering::Relaxed) && version < 5_000 {
                for i in 0..20 {
                    let (_, rev) = bus.load_state(&state(i, 0).uuid).await.unwrap().unwrap();
                    bus.store_state(&state(i, version), Some(rev))
                        .await
                        .unwrap();
                }
                version += 1;
            }
        })
    };
    for _ in 0..5 {
        let listed = tokio::time::timeout(Duration::from_secs(5), bus.all_states())
            .await
            .expect("the listing ends while writes go on")
            .unwrap();
        let mut uuids: Vec<String> = listed.into_iter().map(|s| s.uuid).collect();
        uuids.sort();
        let expected: Vec<String> = (0..20).map(|i| state(i, 0).uuid).collect();
        assert_eq!(uuids, expected, "every task once");
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
}

#[tokio::test]
async fn a_state_watch_delivers_every_task_then_says_so_then_each_change() {
    use vsync_bus::Watched;
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let st = |uuid: &str, version| TaskState {
        uuid: uuid.into(),
        version,
        ..Default::default()
    };
    let empty = async {
        let mut w = bus.watch_states().await.unwrap();
        matches!(w.next().await, Some(Ok(Watched::CaughtUp)))
    };
    assert!(empty.await, "an empty bucket is caught up at once");
    let mut revs = Vec::new();
    for u in ["a", "b", "c"] {
        let Cas::Written(r) = bus.store_state(&st(u, 1), None).await.unwrap() else {
            panic!("new key")
        };
        revs.push(r);
    }
    // "b" rewritten: only its newest state comes.
    bus.store_state(&st("b", 2), Some(revs[1])).await.unwrap();
    let mut w = bus.watch_states().await.unwrap();
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), w.next())
            .await
            .unwrap()
        {
            Some(Ok(Watched::Stored(s))) => seen.push((s.uuid, s.version)),
            Some(Ok(Watched::CaughtUp)) => break,
            other => panic!("{other:?}"),
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [("a".into(), 1), ("b".into(), 2), ("c".into(), 1)],
        "{seen:?}"
    );
    bus.store_state(&st("d", 1), None).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
    {
        Some(Ok(Watched::Stored(s))) => assert_eq!(s.uuid, "d"),
        other => panic!("{other:?}"),
    }
}
