//! Least privilege on a real nats-server configured as in production (the harness renders
//! vsync-bus-auth's table for NKey users): nothing anonymous; a host publishes, consumes and
//! answers only its own, and the server refuses the rest; a host waits for the streams the
//! server services declare instead of creating them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use vsync_bus::control::Reply;
use vsync_bus::control::host::HostRequest;
use vsync_bus::{Bus, BusConfig, Role, subject};
use vsync_harness::NatsServer;
use vsync_proto::{EventKind, TaskEvent, TaskFields, TaskState};

const WAIT: Duration = Duration::from_secs(5);

async fn server(nats: &NatsServer) -> Bus {
    Bus::connect(&BusConfig::new(&nats.url(), "server").with_credentials(nats.server_credentials()))
        .await
        .unwrap()
}

async fn host(nats: &NatsServer, id: &str) -> Bus {
    let cfg = BusConfig::new(&nats.url(), id)
        .with_role(Role::Host(id.into()))
        .with_credentials(nats.host_credentials(id));
    Bus::connect(&cfg).await.unwrap()
}

/// A raw client of `role` that reports the errors the server sends it.
struct Raw {
    client: async_nats::Client,
    errors: mpsc::UnboundedReceiver<String>,
}

impl Raw {
    async fn connect(nats: &NatsServer, role: Role) -> Raw {
        let (tx, errors) = mpsc::unbounded_channel();
        let mut opts =
            async_nats::ConnectOptions::with_nkey(nats.seed(&role)).event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let _ = tx.send(e.to_string());
                    }
                }
            });
        if let Some(prefix) = role.inbox_prefix() {
            opts = opts.custom_inbox_prefix(prefix);
        }
        Raw {
            client: opts.connect(nats.url()).await.unwrap(),
            errors,
        }
    }

    /// Whether the server refused a publish to `subject` (a permissions violation naming it).
    async fn refused_publish(&mut self, subject: &str) -> bool {
        let wanted = format!(
            "permissions violation for publish to \"{}\"",
            subject.to_lowercase()
        );
        let deadline = tokio::time::Instant::now() + WAIT;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.errors.recv()).await {
            if e.to_lowercase().contains(&wanted) {
                return true;
            }
        }
        false
    }
}

fn event(host: &str) -> TaskEvent {
    TaskEvent {
        kind: EventKind::Updated as i32,
        host: host.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_anonymous_client_is_refused() {
    let nats = NatsServer::start();
    let err = async_nats::connect(nats.url()).await.unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("authorization"),
        "{err}"
    );
    let no_seed = BusConfig::new(&nats.url(), "anonymous").with_role(Role::Host("laptop".into()));
    assert!(Bus::connect(&no_seed).await.is_err());
}

#[tokio::test]
async fn a_host_may_not_write_state_act_for_another_host_or_control_the_reconciler() {
    let nats = NatsServer::start();
    let server = server(&nats).await;
    nats.host_credentials("desk");
    let mut laptop = Raw::connect(&nats, Role::Host("laptop".into())).await;

    // canonical state: refused, and nothing written
    let js = async_nats::jetstream::new(laptop.client.clone());
    let put = tokio::time::timeout(WAIT, async {
        js.publish("$KV.vsync_tasks.x", "evil".into()).await?.await
    })
    .await;
    assert!(!matches!(put, Ok(Ok(_))), "a host's put was acknowledged");
    assert!(laptop.refused_publish("$KV.vsync_tasks.x").await);
    assert!(server.load_state("x").await.unwrap().is_none());

    // another host's events
    let desk_subject = subject::tw_task("desk", "Inbox", EventKind::Created);
    laptop
        .client
        .publish(desk_subject.clone(), "x".into())
        .await
        .unwrap();
    laptop.client.flush().await.unwrap();
    assert!(laptop.refused_publish(&desk_subject).await);

    // another host's control subjects, and the reconciler's: the request never arrives
    let mut desk_export = server.host_requests("desk").await.unwrap();
    let mut reconciler = server.reconciler_requests().await.unwrap();
    for (s, what) in [
        ("vsync.v1.ctl.tw.desk.export", "desk's export"),
        ("vsync.v1.ctl.reconciler.reconcile", "a reconcile"),
        ("vsync.v1.ctl.reconciler.adopt", "an adoption"),
        ("vsync.v1.ctl.reconciler.repair", "a repair"),
    ] {
        let asked = tokio::time::timeout(
            Duration::from_millis(500),
            laptop.client.request(s, "null".into()),
        )
        .await;
        assert!(!matches!(asked, Ok(Ok(_))), "{what} was answered");
        assert!(laptop.refused_publish(s).await, "{what} not refused");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), desk_export.next())
            .await
            .is_err()
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), reconciler.next())
            .await
            .is_err()
    );

    // another host's replies and control subjects cannot be listened to either
    let mut spy = Raw::connect(&nats, Role::Host("laptop".into())).await;
    let _sub = spy
        .client
        .subscribe("vsync.v1.ctl.tw.desk.>")
        .await
        .unwrap();
    spy.client.flush().await.unwrap();
    let e = tokio::time::timeout(WAIT, spy.errors.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        e.to_lowercase()
            .contains("permissions violation for subscription"),
        "{e}"
    );
}

#[tokio::test]
async fn a_host_publishes_consumes_and_answers_its_own() {
    let nats = NatsServer::start();
    let server = server(&nats).await;
    let laptop = host(&nats, "laptop").await;

    // its own events reach the stream
    let s = subject::tw_task("laptop", "Inbox", EventKind::Updated);
    assert!(
        laptop
            .publish_event(&s, "m-1", &event("laptop"))
            .await
            .unwrap()
    );

    // canonical state through its own durable consumer
    let state = TaskState {
        uuid: "6a3c1d8e-1111-4b4c-9f4c-1b7d7c3c0a11".into(),
        fields: Some(TaskFields {
            description: "followed".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    server.store_state(&state, None).await.unwrap();
    let mut states = laptop.follow_states("laptop").await.unwrap();
    let d = tokio::time::timeout(WAIT, states.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(subject::state_uuid(d.subject()), Some(state.uuid.as_str()));
    d.ack().await.unwrap();
    assert!(laptop.load_state(&state.uuid).await.unwrap().is_some());

    // its own control requests, answered
    let mut requests = laptop.host_requests("laptop").await.unwrap();
    tokio::spawn(async move {
        while let Some(r) = requests.next().await {
            let (asked, r) = r.into_parts();
            assert_eq!(asked, Ok(HostRequest::Export));
            r.reply(Reply::Ok(vec![serde_json::json!({"uuid": "u"})]))
                .await
                .unwrap();
        }
    });
    let tasks = server.host_tasks("laptop", WAIT).await.unwrap();
    assert_eq!(tasks, [serde_json::json!({"uuid": "u"})]);
}

#[tokio::test]
async fn a_host_started_before_the_server_waits_for_its_streams() {
    let nats = NatsServer::start();
    let cfg = BusConfig::new(&nats.url(), "early")
        .with_role(Role::Host("early".into()))
        .with_credentials(nats.host_credentials("early"));
    let early = tokio::spawn(async move { Bus::connect(&cfg).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !early.is_finished(),
        "a host cannot declare the streams itself"
    );
    let _server = server(&nats).await;
    let bus = tokio::time::timeout(Duration::from_secs(15), early)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    bus.follow_states("early").await.unwrap();
}

#[tokio::test]
async fn the_operator_reads_and_asks_but_waits_only_so_long() {
    let nats = NatsServer::start();
    let cfg = BusConfig::new(&nats.url(), "operator")
        .with_role(Role::Operator)
        .with_credentials(nats.operator_credentials());
    let started = std::time::Instant::now();
    assert!(Bus::connect(&cfg).await.is_err(), "no streams yet");
    assert!(started.elapsed() < Duration::from_secs(20));
    let _server = server(&nats).await;
    let op = Bus::connect(&cfg).await.unwrap();
    let report = op.status(5).await.unwrap();
    assert_eq!(report.tasks, 0);
    let mut raw = Raw::connect(&nats, Role::Operator).await;
    raw.client
        .publish("$KV.vsync_tasks.y", "x".into())
        .await
        .unwrap();
    raw.client.flush().await.unwrap();
    assert!(raw.refused_publish("$KV.vsync_tasks.y").await);
}
