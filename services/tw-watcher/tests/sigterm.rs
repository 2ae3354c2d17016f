//! The binary as systemd runs it: ready notification, then a clean stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use vsync_harness::{NatsServer, ServiceProcess, TwHost};

#[test]
fn it_says_ready_and_stops_cleanly_on_sigterm() {
    let nats = NatsServer::start();
    // The server services declare the streams; a host only looks them up.
    let declare = vsync_bus::BusConfig::new(&nats.url(), "declare")
        .with_credentials(nats.server_credentials());
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(vsync_bus::Bus::connect(&declare))
        .unwrap();
    let host = TwHost::new("sigterm");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[taskwarrior]\nhost = \"sigterm\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n",
            nats.url(),
            nats.host_credentials("sigterm").display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display()
        ),
    )
    .unwrap();
    let p = ServiceProcess::start(
        env!("CARGO_BIN_EXE_tw-watcher").as_ref(),
        &config,
        Duration::from_secs(20),
    );
    let socket = host.data_dir().join(".vikunja-sync/watcher.sock");
    assert!(socket.exists(), "the hook socket is up once ready");
    let status = p.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket is removed on a clean stop");
}
