//! The binary as systemd runs it: ready notification, then a clean stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use vsync_harness::{NatsServer, ServiceProcess};

#[test]
fn it_says_ready_and_stops_cleanly_on_sigterm() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[vikunja]\nwebhook_secret_file = \"{}\"\n[ingress]\nlisten = \"127.0.0.1:0\"\nmetrics_listen = \"127.0.0.1:0\"\n",
            nats.url(),
            nats.server_credentials().display(),
            secret.display()
        ),
    )
    .unwrap();
    let p = ServiceProcess::start(
        env!("CARGO_BIN_EXE_webhook-ingress").as_ref(),
        &config,
        Duration::from_secs(20),
    );
    let status = p.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}
