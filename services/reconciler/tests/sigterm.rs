//! The binary as systemd runs it: ready notification, then a clean stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use vsync_harness::{NatsServer, ServiceProcess};

/// The reconciler's config for this bus and simulator, with the token in a file beside it.
fn write_config(dir: &Path, nats: &NatsServer, sim: &vikunja_sim::Simulator) -> PathBuf {
    let token = dir.join("token");
    std::fs::write(&token, sim.token()).unwrap();
    let config = dir.join("config.toml");
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
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn it_says_ready_and_stops_cleanly_on_sigterm() {
    let nats = NatsServer::start();
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &nats, &sim);
    let status = tokio::task::spawn_blocking(move || {
        let p = ServiceProcess::start(
            env!("CARGO_BIN_EXE_reconciler").as_ref(),
            &config,
            Duration::from_secs(20),
        );
        p.terminate(Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
}

/// With no endpoint configured nothing is exported: not even the SDK's default endpoint from
/// the environment is dialled.
#[tokio::test(flavor = "multi_thread")]
async fn without_an_otlp_endpoint_no_connection_is_attempted() {
    let nats = NatsServer::start();
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let collector = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    collector.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", collector.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &nats, &sim);
    sim.create_project("Home", 0);
    let status = tokio::task::spawn_blocking(move || {
        let env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ];
        let p = ServiceProcess::start_with_env(
            env!("CARGO_BIN_EXE_reconciler").as_ref(),
            &config,
            &env,
            Duration::from_secs(20),
        );
        p.terminate(Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        collector.accept().is_err(),
        "the reconciler connected to an OTLP endpoint nobody configured"
    );
}
