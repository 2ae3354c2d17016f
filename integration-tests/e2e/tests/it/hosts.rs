//! Hosts come and go: `vikunja-sync hosts` lists each with when it was last seen, its lag, its
//! versions and whether it is adopted; `hosts retire` forgets one that is gone (refused while
//! it is connected); a reconcile skips a host not seen within `[reconcile] host_timeout`
//! instead of waiting for it. Everything asked with the operator's own identity.

use std::time::{Duration, Instant};

use vikunja_sync::hosts::{HostsReport, list, retire};
use vsync_bus::control::ReconcileRequest;
use vsync_e2e::*;

/// A bus client with the operator CLI's identity and permissions.
async fn operator(sys: &System) -> vsync_bus::Bus {
    vsync_bus::Bus::connect(
        &vsync_bus::BusConfig::new(&sys.bus_url(), "operator")
            .with_role(vsync_bus::Role::Operator)
            .with_credentials(sys.nats.operator_credentials()),
    )
    .await
    .expect("connect as the operator")
}

/// Waits until `hosts` shows what `cond` wants.
async fn hosts_until(
    bus: &vsync_bus::Bus,
    what: &str,
    cond: impl Fn(&HostsReport) -> bool,
) -> HostsReport {
    vsync_harness::wait_for_async(what, PROPAGATION, || async {
        list(bus).await.ok().filter(|r| cond(r))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_are_listed_with_lag_and_version_and_a_stopped_one_is_retired() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let op = operator(&sys).await;
    let report = hosts_until(&op, "both hosts connected and answering", |r| {
        r.hosts.len() == 2 && r.hosts.iter().all(|h| h.connected && h.info.is_ok())
    })
    .await;
    for h in &report.hosts {
        let info = h.info.as_ref().unwrap();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"), "{report}");
        assert!(!info.taskwarrior.is_empty(), "{report}");
        assert!(info.adopted, "{report}");
        assert_eq!(h.adopted, Some(true), "{report}");
        assert!(h.lag.is_some(), "{report}");
    }
    let text = report.to_string();
    assert!(text.contains("connected now"), "{text}");

    sys.stop_host("desk").await.unwrap();
    // A change the stopped host has not applied is its lag.
    sys.host("laptop")
        .ok(&["add", "while desk is away", "project:Home"]);
    let report = hosts_until(&op, "desk away with a change to catch up on", |r| {
        r.host("desk")
            .is_some_and(|d| !d.connected && d.lag.unwrap_or(0) >= 1)
    })
    .await;
    let desk = report.host("desk").unwrap();
    assert!(desk.last_seen_us.is_some_and(|at| at <= report.taken_at_us));
    assert_eq!(desk.info.as_ref().unwrap_err(), "unreachable");
    let text = report.to_string();
    assert!(text.contains(" ago ("), "{text}");
    assert!(text.contains("unreachable"), "{text}");

    let refused = retire(&op, "laptop", false).await.unwrap_err();
    assert!(refused.to_string().contains("connected now"), "{refused:#}");
    assert!(sys.bus.hosts().await.unwrap().contains(&"laptop".into()));
    let unknown = retire(&op, "attic", false).await.unwrap_err();
    assert!(unknown.to_string().contains("no host"), "{unknown:#}");

    let retired = retire(&op, "desk", false).await.unwrap();
    assert!(retired.consumer_removed && retired.was_adopted, "{retired}");
    assert!(!retired.forced);
    assert_eq!(sys.bus.hosts().await.unwrap(), ["laptop"]);
    let record = sys.bus.adoption().await.unwrap();
    assert!(!record.host_adopted("desk"), "{record:?}");
    assert!(
        record
            .held
            .iter()
            .all(|h| h.host.as_deref() != Some("desk"))
    );
    assert!(list(&op).await.unwrap().host("desk").is_none());

    // Started again with its old state: the bus does not know it, so it asks to be adopted
    // again; its tasks, known by uuid, match themselves (one copy of each, what it missed
    // arrives).
    sys.start_host("desk").await.unwrap();
    sys.wait_adopted(&["laptop".into(), "desk".into()])
        .await
        .unwrap();
    wait_task(sys.host("desk"), "what it missed while retired", |t| {
        s(t, "description") == "while desk is away"
    })
    .await;
    let pending = |h: &vsync_harness::TwHost| {
        let mut v: Vec<String> = h
            .export()
            .iter()
            .filter(|t| s(t, "status") == "pending")
            .map(|t| s(t, "uuid").to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(pending(sys.host("desk")), pending(sys.host("laptop")));
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_skips_a_host_not_seen_within_the_host_timeout() {
    let mut opts = options(&["laptop", "desk"], &["Home"], Default::default());
    opts.host_timeout = Some(Duration::from_secs(1));
    trace_init();
    let mut sys = System::start(opts).await.expect("start the system");
    let op = operator(&sys).await;
    sys.stop_host("desk").await.unwrap();
    // Not pulling any more and quiet for longer than the host timeout.
    vsync_harness::wait_for_async("desk not seen for a second", PROPAGATION, || async {
        let now = vsync_model::dates::now_us();
        let seen = op.hosts_seen().await.ok()?;
        let desk = seen.into_iter().find(|h| h.host == "desk")?;
        (!desk.seen_within(Duration::from_secs(1), now)).then_some(())
    })
    .await;
    let started = Instant::now();
    let reply = vikunja_sync::ctl::reconcile(&op, &ReconcileRequest::default())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}: {reply}");
    assert_eq!(reply.skipped, ["desk"], "{reply}");
    assert!(reply.errors().is_empty(), "{reply}");
    let laptop = reply.hosts.iter().filter_map(|r| r.as_ref().ok());
    assert_eq!(
        laptop.map(|h| h.host.as_str()).collect::<Vec<_>>(),
        ["laptop"]
    );
    assert!(reply.to_string().contains("host desk: skipped"), "{reply}");
    sys.shutdown().await.unwrap();
}
