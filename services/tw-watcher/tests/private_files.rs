//! Under the most permissive umask, what the watcher writes is private anyway: its state
//! directory and mirror 0700, mirror files 0600, the hook socket 0600.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use vsync_harness::{NatsServer, ServiceProcess, TwHost};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn state_mirror_and_socket_are_private_under_umask_000() {
    let nats = NatsServer::start();
    let declare = vsync_bus::BusConfig::new(&nats.url(), "declare")
        .with_credentials(nats.server_credentials());
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(vsync_bus::Bus::connect(&declare))
        .unwrap();
    let host = TwHost::new("private");
    host.add(&["a task the mirror holds"]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[taskwarrior]\nhost = \"private\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n",
            nats.url(),
            nats.host_credentials("private").display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display()
        ),
    )
    .unwrap();
    // the watcher as a shell with umask 000 starts it
    let wrapper = dir.path().join("tw-watcher-umask-000");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\numask 000\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_tw-watcher")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = ServiceProcess::start(&wrapper, &config, Duration::from_secs(20));

    let state = host.data_dir().join(".vikunja-sync");
    let mirror = state.join("mirror");
    let files: Vec<_> = std::fs::read_dir(&mirror)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        (mode(&state), mode(&mirror), mode(&files[0])),
        (0o700, 0o700, 0o600)
    );
    assert_eq!(mode(&state.join("watcher.sock")), 0o600);
    assert!(p.terminate(Duration::from_secs(10)).success());
}
