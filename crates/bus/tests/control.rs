//! The control channel against a real nats-server: every endpoint's requests arrive typed,
//! every answer has the one reply shape, and a missing or failing service is told apart.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use vsync_bus::control::host::{HostRequest, Rekey};
use vsync_bus::control::reconciler::{
    AdoptRequest, Progress, ReconcileRequest, ReconcilerRequest, ReplayRequest, RetireRequest,
};
use vsync_bus::control::{ControlError, Reply};
use vsync_bus::labels::{LabelsApplied, LabelsRequest};
use vsync_bus::reports::{HostReport, ReconcileReply, RepairReport, ReplayReport};
use vsync_bus::{Bus, BusConfig, BusError, RequestFailure};
use vsync_harness::NatsServer;
use vsync_proto::LabelWork;

const WAIT: Duration = Duration::from_secs(5);

async fn bus(nats: &NatsServer) -> Bus {
    Bus::connect(
        &BusConfig::new(&nats.url(), "control-test").with_credentials(nats.server_credentials()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_reconciler_gets_typed_requests_and_its_answers_come_back() {
    let nats = NatsServer::start();
    let (server, client) = (bus(&nats).await, bus(&nats).await);
    // Asked right after it subscribed: the subscription is in place when this returns.
    let mut requests = server.reconciler_requests().await.unwrap();
    let answering = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(req) = requests.next().await {
            let (asked, req) = req.into_parts();
            seen.push(asked.clone());
            match asked {
                Ok(ReconcilerRequest::Reconcile(r)) => {
                    let e = req.error(format!("no Vikunja for {:?}", r.project));
                    req.reply(Reply::Ok(ReconcileReply {
                        vikunja: Reply::Error(e),
                        hosts: vec![],
                        skipped: vec![],
                    }))
                    .await
                    .unwrap();
                }
                Ok(ReconcilerRequest::Repair) => {
                    let r = RepairReport {
                        links_checked: 3,
                        ..Default::default()
                    };
                    req.reply(Reply::Ok(r)).await.unwrap();
                }
                Ok(ReconcilerRequest::Replay(r)) => {
                    let r = ReplayReport {
                        replayed: vec![(r.seq.unwrap_or(0), "apply".into(), "done".into())],
                        kept: vec![],
                    };
                    req.reply(Reply::Ok(r)).await.unwrap();
                }
                Ok(ReconcilerRequest::RetireHost(r)) => {
                    let e = req.error(format!("host {} is connected", r.host));
                    req.reply::<()>(Reply::Error(e)).await.unwrap();
                }
                Ok(ReconcilerRequest::Adopt(_)) => {
                    let e = req.error("\"quoted\" and\nnewline");
                    req.reply::<()>(Reply::Error(e)).await.unwrap();
                    break;
                }
                Err(e) => req.reply::<()>(Reply::Error(e)).await.unwrap(),
            }
        }
        seen
    });
    let r = client
        .reconcile(
            ReconcileRequest {
                full: true,
                project: Some("Work".into()),
                confirm_deletions: false,
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        r.errors(),
        [&ControlError::new(
            "reconciler",
            "no Vikunja for Some(\"Work\")"
        )]
    );
    assert_eq!(client.repair(WAIT).await.unwrap().links_checked, 3);
    let replayed = client
        .replay_dead_letters(ReplayRequest { seq: Some(7) }, WAIT)
        .await
        .unwrap();
    assert_eq!(replayed.replayed, [(7, "apply".into(), "done".into())]);
    let retire = RetireRequest {
        host: "desk".into(),
        force: false,
    };
    let not_retired = client.retire_host(retire, WAIT).await.unwrap_err();
    assert!(
        not_retired
            .to_string()
            .contains("reconciler: host desk is connected"),
        "{not_retired}"
    );
    let refused = client
        .adopt(AdoptRequest::default(), WAIT)
        .await
        .unwrap_err();
    let BusError::Refused { error, .. } = refused else {
        panic!("{refused}")
    };
    assert_eq!(error.message, "\"quoted\" and\nnewline");
    let seen = answering.await.unwrap();
    assert_eq!(seen.len(), 5);
    assert!(matches!(seen[4], Ok(ReconcilerRequest::Adopt(_))));
}

#[tokio::test]
async fn no_reconciler_running_is_said_at_once() {
    let nats = NatsServer::start();
    let client = bus(&nats).await;
    let started = std::time::Instant::now();
    let e = client.repair(Duration::from_secs(30)).await.unwrap_err();
    assert!(
        matches!(
            e,
            BusError::Request {
                failure: RequestFailure::NoResponders,
                ..
            }
        ),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn every_host_answers_a_reconcile_and_only_its_own_requests() {
    let nats = NatsServer::start();
    let client = bus(&nats).await;
    let mut hosts = Vec::new();
    for name in ["desk", "lap top"] {
        let b = bus(&nats).await;
        // A host is one that follows canonical state.
        let _follow = b.follow_states(name).await.unwrap();
        let mut requests = b.host_requests(name).await.unwrap();
        hosts.push(tokio::spawn(async move {
            let _follow = _follow;
            let mut seen = Vec::new();
            while let Some(req) = requests.next().await {
                let (asked, req) = req.into_parts();
                let asked = asked.unwrap();
                seen.push(asked.clone());
                match asked {
                    HostRequest::Reconcile if name == "desk" => {
                        let e = req.error("task: database is locked");
                        req.reply::<HostReport>(Reply::Error(e)).await.unwrap()
                    }
                    HostRequest::Reconcile => req
                        .reply(Reply::Ok(HostReport {
                            host: name.into(),
                            exported: 2,
                            ..Default::default()
                        }))
                        .await
                        .unwrap(),
                    HostRequest::Export => req
                        .reply(Reply::Ok(vec![serde_json::json!({"uuid": name})]))
                        .await
                        .unwrap(),
                    HostRequest::Info => req.reply(Reply::Ok(())).await.unwrap(),
                    HostRequest::Adopted(_) | HostRequest::Release(_) => {
                        req.reply(Reply::Ok(())).await.unwrap()
                    }
                    HostRequest::Rekey(_) => {
                        req.reply(Reply::Ok(())).await.unwrap();
                        break;
                    }
                }
            }
            seen
        }));
    }
    let replies = client.reconcile_hosts(WAIT).await.unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(
        replies[0].as_ref().unwrap_err(),
        &ControlError::new("host desk", "task: database is locked")
    );
    assert_eq!(replies[1].as_ref().unwrap().exported, 2);
    let tasks = client.host_tasks("lap top", WAIT).await.unwrap();
    assert_eq!(tasks, [serde_json::json!({"uuid": "lap top"})]);
    let rekeys = [Rekey {
        from: "a".into(),
        to: "b".into(),
    }];
    for h in ["desk", "lap top"] {
        client.rekey(h, &rekeys, WAIT).await.unwrap();
    }
    let desk = hosts.remove(0).await.unwrap();
    assert_eq!(
        desk,
        [HostRequest::Reconcile, HostRequest::Rekey(rekeys.to_vec())]
    );
    let laptop = hosts.remove(0).await.unwrap();
    assert_eq!(laptop.len(), 3, "{laptop:?}");
    let gone = client
        .host_tasks("desk", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(gone, BusError::Request { .. }), "{gone}");
}

#[tokio::test]
async fn label_work_goes_to_one_replica_and_comes_back() {
    let nats = NatsServer::start();
    let client = bus(&nats).await;
    let server = bus(&nats).await;
    let mut requests = server.label_requests().await.unwrap();
    tokio::spawn(async move {
        while let Some(req) = requests.next().await {
            let (Ok(LabelsRequest::Apply(work)), req) = req.into_parts() else {
                continue;
            };
            if work.titles.is_empty() {
                let e = req.error("nothing to do");
                req.reply::<LabelsApplied>(Reply::Error(e)).await.unwrap();
            } else {
                let applied = LabelsApplied {
                    label_ids: vec![work.vikunja_task_id * 10],
                    api_calls: 1,
                };
                req.reply(Reply::Ok(applied)).await.unwrap();
            }
        }
    });
    let work = LabelWork {
        uuid: "u".into(),
        vikunja_task_id: 4,
        titles: vec!["errand".into()],
        current_label_ids: vec![],
    };
    let r = client.apply_labels(&work, WAIT).await.unwrap();
    assert_eq!(r.label_ids, [40]);
    let refused = client
        .apply_labels(
            &LabelWork {
                titles: vec![],
                ..work
            },
            WAIT,
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("label-sync: nothing to do"),
        "{refused}"
    );
}

#[tokio::test]
async fn progress_reaches_the_asker() {
    let nats = NatsServer::start();
    let (asker, reporter) = (bus(&nats).await, bus(&nats).await);
    let (inbox, mut updates) = asker.progress_inbox().await.unwrap();
    for done in 1..=3 {
        reporter
            .report_progress(&inbox, Progress { done, total: 3 })
            .await
            .unwrap();
    }
    for done in 1..=3 {
        let p = tokio::time::timeout(WAIT, updates.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p, Progress { done, total: 3 });
    }
}
