#![allow(clippy::unwrap_used)]
use super::*;

fn host(h: &str) -> Permissions {
    Role::Host(h.to_string()).permissions()
}

#[test]
fn the_table_the_nixos_module_reads_is_this_one() {
    // nixos-modules/bus-permissions.nix reads this file; regenerate it with
    // VSYNC_REGENERATE_PERMISSIONS=1 cargo test -p vsync-bus-auth
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("permissions.json");
    let rendered = table_json();
    if std::env::var_os("VSYNC_REGENERATE_PERMISSIONS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        on_disk, rendered,
        "permissions.json is stale: run VSYNC_REGENERATE_PERMISSIONS=1 cargo test -p vsync-bus-auth"
    );
}

#[test]
fn a_host_publishes_only_its_own_events() {
    let p = host("laptop");
    assert!(
        p.publish
            .permits("vsync.v1.in.tw.laptop.Inbox.task.created")
    );
    assert!(p.publish.permits("vsync.v1.applied.laptop"));
    assert!(!p.publish.permits("vsync.v1.in.tw.desk.Inbox.task.created"));
    assert!(!p.publish.permits("vsync.v1.in.vikunja.1.task.created"));
    assert!(!p.publish.permits("vsync.v1.applied.desk"));
    assert!(!p.publish.permits("$KV.vsync_tasks.x"));
    assert!(!p.publish.permits("$KV.vsync_links.x"));
    assert!(!p.publish.permits("vsync.v1.ctl.reconciler.reconcile"));
    assert!(!p.publish.permits("vsync.v1.ctl.tw.desk.export"));
    assert!(!p.publish.permits("$JS.API.STREAM.CREATE.KV_vsync_tasks"));
    assert!(!p.publish.permits("_INBOX.abc"));
    assert!(!p.publish.permits("_INBOX_desk.abc"));
    assert!(p.publish.permits("_INBOX_laptop.abc"));
}

#[test]
fn a_host_consumes_only_through_its_own_durable_consumer() {
    let p = host("laptop");
    assert!(
        p.publish
            .permits("$JS.API.CONSUMER.MSG.NEXT.KV_vsync_tasks.host-laptop")
    );
    assert!(
        !p.publish
            .permits("$JS.API.CONSUMER.MSG.NEXT.KV_vsync_tasks.host-desk")
    );
    assert!(
        p.publish
            .permits("$JS.ACK.KV_vsync_tasks.host-laptop.1.2.3.4.5")
    );
    assert!(
        !p.publish
            .permits("$JS.ACK.KV_vsync_tasks.host-desk.1.2.3.4.5")
    );
    assert!(
        !p.publish
            .permits("$JS.API.CONSUMER.MSG.NEXT.VSYNC_IN.reconciler")
    );
    assert!(
        !p.publish
            .permits("$JS.API.CONSUMER.DELETE.KV_vsync_tasks.host-desk")
    );
}

#[test]
fn a_host_listens_only_on_its_own_control_subjects_and_inbox() {
    let p = host("laptop");
    assert!(p.subscribe.permits("vsync.v1.ctl.tw.laptop.export"));
    assert!(p.subscribe.permits("vsync.v1.ctl.tw.reconcile"));
    assert!(p.subscribe.permits("_INBOX_laptop.x.y"));
    assert!(!p.subscribe.permits("vsync.v1.ctl.tw.desk.export"));
    assert!(!p.subscribe.permits("_INBOX.x"));
    assert!(!p.subscribe.permits("vsync.v1.in.>"));
    assert!(!p.subscribe.permits("$KV.vsync_tasks.x"));
    assert!(p.allow_responses);
}

#[test]
fn the_operator_reads_and_asks_but_writes_nothing() {
    let p = Role::Operator.permissions();
    assert!(p.publish.permits("vsync.v1.ctl.reconciler.reconcile"));
    assert!(p.publish.permits("vsync.v1.ctl.tw.laptop.export"));
    assert!(p.publish.permits("$JS.API.STREAM.INFO.KV_vsync_tasks"));
    assert!(!p.publish.permits("$KV.vsync_tasks.x"));
    assert!(
        !p.publish
            .permits("vsync.v1.in.tw.laptop.Inbox.task.created")
    );
    assert!(!p.publish.permits("$JS.API.STREAM.CREATE.VSYNC_IN"));
    // `hosts`: each host's consumer and what it says; `hosts retire` only through the
    // reconciler, which removes the consumer and writes the adoption record
    assert!(p.publish.permits("vsync.v1.ctl.tw.laptop.info"));
    assert!(
        p.publish
            .permits("$JS.API.CONSUMER.INFO.KV_vsync_tasks.host-laptop")
    );
    assert!(p.publish.permits("vsync.v1.ctl.reconciler.retire"));
    assert!(
        !p.publish
            .permits("$JS.API.CONSUMER.DELETE.KV_vsync_tasks.host-laptop")
    );
    assert!(!p.publish.permits("$KV.vsync_meta.adoption"));
    assert!(!p.subscribe.permits("vsync.v1.>"));
    assert!(
        p.subscribe.permits("vsync.v1.in.vikunja.3.task.updated"),
        "doctor's test delivery"
    );
    assert!(
        !p.subscribe
            .permits("vsync.v1.in.tw.laptop.Inbox.task.created")
    );
}

#[test]
fn the_server_may_do_everything() {
    let p = Role::Server.permissions();
    assert!(p.publish.permits("$KV.vsync_tasks.x") && p.subscribe.permits("vsync.v1.in.tw.a.b"));
}

#[test]
fn wildcards_match_as_nats_does() {
    assert!(matches("a.*.c", "a.b.c"));
    assert!(!matches("a.*.c", "a.b.d"));
    assert!(matches("a.>", "a.b.c"));
    assert!(!matches("a.>", "a"));
    assert!(!matches("a.b", "a.b.c"));
    assert!(matches(">", "x"));
}

#[test]
fn host_ids_are_single_plain_tokens() {
    assert!(valid_host_id("laptop-alice_2"));
    for bad in [
        "",
        "a.b",
        "a*",
        "a>",
        "a b",
        "ä",
        &"x".repeat(65),
        HOST_PLACEHOLDER,
    ] {
        assert!(!valid_host_id(bad), "{bad:?}");
    }
}
