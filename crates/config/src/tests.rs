use super::*;

const SAMPLE: &str = r#"
[bus]
url = "nats://10.0.0.1:4222"
credentials_file = "/run/credentials/x/nats"

[vikunja]
url = "https://vikunja.example.org/"
token_file = "/run/credentials/x/token"
projects = ["Work"]

[taskwarrior]
host = "laptop"
data = "/home/alice/.task"

[reconcile]
interval = "30s"
full_interval = 600
"#;

#[test]
fn the_operator_contract_parses() {
    let c = Config::parse(SAMPLE, []).expect("parses");
    assert_eq!(c.bus.url.as_deref(), Some("nats://10.0.0.1:4222"));
    assert_eq!(
        c.vikunja_api().expect("url"),
        "https://vikunja.example.org/api/v1"
    );
    assert_eq!(c.reconcile.interval, Duration::from_secs(30));
    assert_eq!(c.reconcile.full_interval, Duration::from_secs(600));
    assert_eq!(
        c.taskwarrior.socket(),
        PathBuf::from("/home/alice/.task/.vikunja-sync/watcher.sock")
    );
    assert_eq!(c.vikunja.default_project, "Inbox");
}

#[test]
fn environment_overrides_any_key() {
    let env = [
        ("VIKUNJA_SYNC_BUS_URL", "nats://override:4222"),
        ("VIKUNJA_SYNC_RECONCILE_CONCURRENCY", "9"),
        ("VIKUNJA_SYNC_VIKUNJA_TOKEN_FILE", "/tmp/t"),
        ("VIKUNJA_SYNC_SOCKET", "/ignored"),
        ("OTHER", "x"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let c = Config::parse(SAMPLE, env).expect("parses");
    assert_eq!(c.bus.url.as_deref(), Some("nats://override:4222"));
    assert_eq!(c.reconcile.concurrency, 9);
    assert_eq!(c.vikunja.token_file, Some(PathBuf::from("/tmp/t")));
}

#[test]
fn unknown_keys_are_refused() {
    let err = Config::parse("[bus]\nurll = \"x\"\n", []).expect_err("typo");
    assert!(err.to_string().contains("urll"), "{err}");
}

#[test]
fn secrets_come_from_files_and_errors_never_show_them() {
    let dir = std::env::temp_dir().join(format!("vsync-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("token");
    std::fs::write(&f, "tk_secret_value\n").expect("write");
    assert_eq!(
        read_secret(&f).expect("read").expose_secret(),
        "tk_secret_value"
    );
    std::fs::write(&f, "").expect("write");
    let err = read_secret(&f).expect_err("empty").to_string();
    assert!(err.contains("empty") && !err.contains("tk_secret"));
    let missing = read_secret(&dir.join("nope"))
        .expect_err("missing")
        .to_string();
    assert!(missing.contains("nope"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn durations_take_units() {
    assert_eq!(duration::parse("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(duration::parse("5m"), Ok(Duration::from_secs(300)));
    assert!(duration::parse("5 weeks").is_err());
}

#[test]
fn the_labels_section_is_plain_settings() {
    let c = Config::parse(
        "[labels]\nlowercase = true\nexclude = [\"next\"]\ntw_only_prefix = \"tw.\"\n",
        [],
    )
    .expect("parses");
    assert_eq!(
        c.labels,
        Labels {
            lowercase: true,
            exclude: vec!["next".into()],
            tw_only_prefix: Some("tw.".into()),
        }
    );
    let err = Config::parse("[labels]\nlowercased = true\n", []).expect_err("typo");
    assert!(err.to_string().contains("lowercased"), "{err}");
}
