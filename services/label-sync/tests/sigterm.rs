//! The binary as systemd runs it: ready notification, then a clean stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use vsync_harness::{NatsServer, ServiceProcess};

#[tokio::test(flavor = "multi_thread")]
async fn it_says_ready_and_stops_cleanly_on_sigterm() {
    let nats = NatsServer::start();
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, sim.token()).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\n",
            nats.url(),
            nats.server_credentials().display(),
            sim.base_url(),
            token.display()
        ),
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let p = ServiceProcess::start(
            env!("CARGO_BIN_EXE_label-sync").as_ref(),
            &config,
            Duration::from_secs(20),
        );
        p.terminate(Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
}
