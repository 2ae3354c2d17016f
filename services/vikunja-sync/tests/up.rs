//! `vikunja-sync up`: every service of one machine in one process, with its own nats-server when
//! no bus is configured; ready notification, then a clean stop on SIGTERM.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use vsync_harness::{ServiceProcess, TwHost, wait_for};

#[tokio::test(flavor = "multi_thread")]
async fn up_runs_everything_with_its_own_bus_and_stops_on_sigterm() {
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let home = sim.create_project("Home", 0);
    let host = TwHost::new("solo");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::write(dir.path().join("secret"), "up-secret").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\nwebhook_url = \"http://127.0.0.1:{port}/webhook\"\n\
             [ingress]\nlisten = \"127.0.0.1:{port}\"\n[taskwarrior]\nhost = \"solo\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n",
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let state_env = state.display().to_string();
    let config_arg = config.display().to_string();
    let p = tokio::task::spawn_blocking(move || {
        ServiceProcess::start_args(
            env!("CARGO_BIN_EXE_vikunja-sync").as_ref(),
            &["--config", &config_arg, "up"],
            &[("XDG_STATE_HOME", &state_env)],
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    assert!(
        state.join("vikunja-sync/nats").is_dir(),
        "the embedded bus keeps its data"
    );
    let s2 = sim.clone();
    wait_for("webhook registration", Duration::from_secs(15), move || {
        (!s2.webhooks(home.id).is_empty()).then_some(())
    })
    .await;
    sim.create_task(home.id, "through up");
    let (bin, rc, data) = (
        host.task_bin().to_path_buf(),
        host.taskrc(),
        host.data_dir(),
    );
    wait_for("the task on the host", Duration::from_secs(15), move || {
        let out = std::process::Command::new(&bin)
            .args(["rc.hooks=off", "export"])
            .env("TASKRC", &rc)
            .env("TASKDATA", &data)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("through up")
            .then_some(())
    })
    .await;
    let status = tokio::task::spawn_blocking(move || p.terminate(Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}
