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
    assert!(c.taskwarrior.in_process(), "in-process by default");
}

#[test]
fn environment_overrides_any_key() {
    let env = [
        ("VIKUNJA_SYNC_BUS_URL", "nats://override:4222"),
        ("VIKUNJA_SYNC_RECONCILE_CONCURRENCY", "9"),
        ("VIKUNJA_SYNC_VIKUNJA_TOKEN_FILE", "/tmp/t"),
        ("VIKUNJA_SYNC_SOCKET", "/ignored"),
        ("VIKUNJA_SYNC_TASKWARRIOR_IN_PROCESS", "false"),
        ("OTHER", "x"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let c = Config::parse(SAMPLE, env).expect("parses");
    assert_eq!(c.bus.url.as_deref(), Some("nats://override:4222"));
    assert_eq!(c.reconcile.concurrency, 9);
    assert_eq!(c.vikunja.token_file, Some(PathBuf::from("/tmp/t")));
    assert!(!c.taskwarrior.in_process());
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

#[test]
fn values_that_cannot_work_are_refused_by_name() {
    let bad = [
        ("[bus]\nurl = \"http://x:4222\"\n", "bus.url"),
        ("[bus]\nurl = \"\"\n", "bus.url"),
        ("[bus]\nreplicas = 0\n", "bus.replicas"),
        ("[bus]\nevents_max_mib = 0\n", "bus.events_max_mib"),
        (
            "[bus]\ndead_letters_max_mib = 0\n",
            "bus.dead_letters_max_mib",
        ),
        ("[vikunja]\nurl = \"tasks.example.org\"\n", "vikunja.url"),
        ("[vikunja]\nurl = \"https://\"\n", "vikunja.url"),
        ("[vikunja]\nurl = \"https://x:99999\"\n", "vikunja.url"),
        (
            "[vikunja]\nwebhook_url = \"ftp://x/webhook\"\n",
            "vikunja.webhook_url",
        ),
        (
            "[vikunja]\ndefault_project = \" \"\n",
            "vikunja.default_project",
        ),
        ("[vikunja]\ntimeout = 0\n", "vikunja.timeout"),
        ("[taskwarrior]\nhost = \"\"\n", "taskwarrior.host"),
        (
            "[telemetry]\nlog_format = \"yaml\"\n",
            "telemetry.log_format",
        ),
        (
            "[telemetry]\notlp_endpoint = \"127.0.0.1:4317\"\n",
            "telemetry.otlp_endpoint",
        ),
        (
            "[reconcile]\nfull_interval = \"0s\"\n",
            "reconcile.full_interval",
        ),
        ("[reconcile]\nconcurrency = 0\n", "reconcile.concurrency"),
        ("[labels]\ntw_only_prefix = \"\"\n", "labels.tw_only_prefix"),
    ];
    for (text, key) in bad {
        let err = Config::parse(text, []).expect_err(text).to_string();
        assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
    }
    let env = [(
        "VIKUNJA_SYNC_RECONCILE_CONCURRENCY".to_string(),
        "0".to_string(),
    )];
    assert!(Config::parse("", env).is_err(), "overrides are checked too");
}

#[test]
fn usual_urls_are_accepted() {
    let good = r#"
[bus]
url = "nats://a:4222, tls://user:pw@b.example.org:4222,127.0.0.1:4222"
[vikunja]
url = "http://[::1]:3456/"
webhook_url = "https://sync.example.org/hooks/vikunja?x=1"
[telemetry]
otlp_endpoint = "http://127.0.0.1:4317"
log_format = "json"
"#;
    Config::parse(good, []).expect("valid");
}
