//! A `[taskwarrior] filter` the watcher cannot read fails its start as a config error.
#![allow(clippy::unwrap_used)]

#[test]
fn a_filter_it_cannot_read_fails_the_start_with_exit_64_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    // Read before anything connects: the bus URL is never dialled.
    std::fs::write(
        &config,
        "[bus]\nurl = \"nats://127.0.0.1:1\"\n[taskwarrior]\nhost = \"h\"\nfilter = \"due:today\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tw-watcher"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("`taskwarrior.filter`"), "{stderr}");
    assert!(stderr.contains("due:today"), "{stderr}");
}
