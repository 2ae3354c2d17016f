//! Hosts as their durable consumers show them, against a real nats-server: connected while the
//! watcher pulls, last active once it stopped, what it says of itself, its consumer removed;
//! the operator reads all of it with its own identity.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use vsync_bus::control::{HostRequest, Reply};
use vsync_bus::reports::{HostInfo, HostReport};
use vsync_bus::{Bus, BusConfig, Role};
use vsync_harness::{NatsServer, wait_for_async};

const WAIT: Duration = Duration::from_secs(10);

async fn connect(nats: &NatsServer, role: Role) -> Bus {
    let creds = nats.credentials(&role);
    Bus::connect(
        &BusConfig::new(&nats.url(), "hosts-test")
            .with_role(role)
            .with_credentials(creds),
    )
    .await
    .unwrap()
}

/// A watcher stand-in: follows canonical state (pulling all along) and answers `info` and
/// `reconcile` until the returned handle is aborted.
async fn watcher(nats: &NatsServer, host: &str) -> tokio::task::JoinHandle<()> {
    let bus = connect(nats, Role::Host(host.into())).await;
    let mut states = bus.follow_states(host).await.unwrap();
    let mut requests = bus.host_requests(host).await.unwrap();
    let host = host.to_string();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(d) = states.next() => d.unwrap().ack().await.unwrap(),
                Some(r) = requests.next() => {
                    let (asked, r) = r.into_parts();
                    let sent = match asked.unwrap() {
                        HostRequest::Info => r.reply(Reply::Ok(HostInfo {
                            host: host.clone(),
                            version: "9.9.9".into(),
                            tasks: 3,
                            ..Default::default()
                        })).await,
                        HostRequest::Reconcile => r.reply(Reply::Ok(HostReport {
                            host: host.clone(),
                            ..Default::default()
                        })).await,
                        other => panic!("not asked here: {other:?}"),
                    };
                    sent.unwrap();
                }
            }
        }
    })
}

#[tokio::test]
async fn a_host_is_connected_while_it_pulls_and_last_seen_once_it_stopped() {
    let nats = NatsServer::start();
    let server = connect(&nats, Role::Server).await;
    let desk = watcher(&nats, "desk").await;
    let operator = connect(&nats, Role::Operator).await;
    wait_for_async("desk connected", WAIT, || async {
        let seen = operator.hosts_seen().await.unwrap();
        (seen.len() == 1 && seen[0].connected).then_some(())
    })
    .await;
    let info = operator.host_info("desk", WAIT).await.unwrap();
    assert_eq!((info.version.as_str(), info.tasks), ("9.9.9", 3));

    desk.abort();
    let stopped = wait_for_async("desk not connected", WAIT, || async {
        let seen = operator.hosts_seen().await.unwrap();
        seen.into_iter().find(|h| h.host == "desk" && !h.connected)
    })
    .await;
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!(stopped.last_active_us > 0 && stopped.last_active_us <= now_us);
    assert!(stopped.seen_within(Duration::from_secs(60), now_us));
    assert!(!stopped.seen_within(Duration::ZERO, now_us + 1));
    let gone = operator
        .host_info("desk", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(gone, vsync_bus::BusError::Request { .. }),
        "{gone}"
    );

    assert!(server.delete_host_consumer("desk").await.unwrap());
    assert!(!server.delete_host_consumer("desk").await.unwrap());
    assert!(operator.hosts_seen().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reconcile_waits_only_for_the_hosts_named() {
    let nats = NatsServer::start();
    let server = connect(&nats, Role::Server).await;
    let _desk = watcher(&nats, "desk").await;
    // Follows canonical state but never answers.
    let mute = connect(&nats, Role::Host("mute".into())).await;
    let _states = mute.follow_states("mute").await.unwrap();
    let _requests = mute.host_requests("mute").await.unwrap();
    let started = std::time::Instant::now();
    let replies = server
        .reconcile_named_hosts(&["desk".to_string()], Duration::from_secs(30))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].as_ref().unwrap().host, "desk");
}
