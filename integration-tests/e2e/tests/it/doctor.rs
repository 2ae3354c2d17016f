//! `vikunja-sync doctor`: against a broken setup it names exactly what is wrong (with the fix)
//! and exits non-zero; against a healthy one it exits 0.

use std::path::{Path, PathBuf};

use vikunja_sim::SimConfig;
use vikunja_sync::doctor::{Finding, Verdict};
use vsync_e2e::procs::bin;
use vsync_e2e::*;

/// A config file for doctor on the system's machine: the server's settings with `token` as the
/// API token, and the Taskwarrior host `laptop`.
fn config_file(sys: &System, token: &str) -> PathBuf {
    let dir = sys.temp_dir();
    let token_file = dir.join("doctor-token");
    std::fs::write(&token_file, token).unwrap();
    let host = sys.host("laptop");
    let server = &sys.server;
    let path = |p: &Option<PathBuf>| p.as_deref().unwrap().display().to_string();
    let config = dir.join("doctor.toml");
    std::fs::write(
        &config,
        format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\n\
             webhook_url = \"{}\"\n[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[taskwarrior]\nhost = \"laptop\"\n\
             data = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n",
            server.vikunja.url.as_deref().unwrap(),
            token_file.display(),
            path(&server.vikunja.webhook_secret_file),
            server.vikunja.webhook_url.as_deref().unwrap(),
            sys.bus_url(),
            sys.nats.operator_credentials().display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display(),
        ),
    )
    .unwrap();
    config
}

/// `vikunja-sync doctor --config FILE`: its exit code and report.
async fn doctor_program(config: &Path) -> (Option<i32>, String) {
    let config = config.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(bin("vikunja-sync"))
            .arg("doctor")
            .arg("--config")
            .arg(&config)
            .env_remove("TASKDATA")
            .env_remove("VIKUNJA_SYNC_SOCKET")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn problems(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.verdict == Verdict::Problem)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_missing_permission_disabled_webhooks_and_a_missing_hook() {
    let sim = SimConfig {
        webhooks_enabled: false,
        ..SimConfig::default()
    };
    let mut o = options(&["laptop"], &["Home"], sim);
    o.hook_bin = None;
    let sys = System::start(o).await.unwrap();
    // Every permission the sync needs except the task labels.
    let mut needed = vsync_vikunja::needed_permissions(false);
    assert!(needed.remove("tasks_labels").is_some());
    let scopes: Vec<(&str, Vec<&str>)> = needed
        .iter()
        .map(|(g, vs)| (g.as_str(), vs.iter().map(String::as_str).collect()))
        .collect();
    let scopes: Vec<(&str, &[&str])> = scopes.iter().map(|(g, v)| (*g, v.as_slice())).collect();
    let token = sys.sim.create_token(&scopes, None).unwrap();
    let config = config_file(&sys, &token);

    let report = vikunja_sync::doctor::run(Some(&config)).await;
    eprintln!("{report}");
    let found = problems(&report.findings);
    assert_eq!(found.len(), 3, "{report}");
    let (perm, hooks, hook) = (found[0], found[1], found[2]);
    assert_eq!(perm.check, "Vikunja token", "{report}");
    assert!(
        perm.found.starts_with("the token lacks tasks_labels:"),
        "{report}"
    );
    assert!(
        !perm.found.contains("tasks:"),
        "only what is missing: {report}"
    );
    assert_eq!(hooks.check, "webhooks", "{report}");
    assert!(hooks.found.contains("webhooks are disabled"), "{report}");
    assert!(
        hooks
            .fix
            .as_deref()
            .unwrap()
            .contains("webhooks: enabled: true")
    );
    assert_eq!(hook.check, "hook", "{report}");
    assert!(hook.found.starts_with("not installed:"), "{report}");
    assert!(
        hook.fix
            .as_deref()
            .unwrap()
            .contains("vikunja-sync hook install")
    );
    for ok in [
        "Vikunja",
        "bus",
        "Taskwarrior",
        "task data",
        "UDA",
        "watcher",
    ] {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.check == ok && f.verdict == Verdict::Ok),
            "{ok}: {report}"
        );
    }

    let (code, out) = doctor_program(&config).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("\n3 problems.\n"), "{out}");
    assert!(
        out.contains("PROBLEM Vikunja token: the token lacks tasks_labels"),
        "{out}"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_healthy_setup_with_a_test_delivery() {
    let sys = system(&["laptop"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    // The test delivery re-sets a labelled task's labels.
    let id = sys.sim.create_task(home, "Labelled").id;
    let label = sys.sim.create_label("errand");
    sys.sim.add_label(id, label.id).unwrap();
    wait_task(sys.host("laptop"), "the labelled task", |t| {
        t["tags"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    let config = config_file(&sys, &sys.sim.token());
    let before = sys.sim.task(id).unwrap();

    let report = vikunja_sync::doctor::run(Some(&config)).await;
    eprintln!("{report}");
    assert!(report.healthy(), "{report}");
    let delivery = report
        .findings
        .iter()
        .find(|f| f.check == "webhook delivery")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(delivery.verdict, Verdict::Ok, "{report}");
    assert!(
        report.findings.iter().all(|f| f.verdict == Verdict::Ok),
        "{report}"
    );
    let after = sys.sim.task(id).unwrap();
    assert_eq!(
        after.updated, before.updated,
        "the test delivery changed nothing"
    );

    let (code, out) = doctor_program(&config).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Everything the sync needs holds."), "{out}");
    // Nothing went wrong in the sync for it.
    let dead = sys.bus.recent_dead_letters(10).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_vikunjas_private_address_setting_when_no_test_delivery_arrives() {
    // Vikunja's default: no deliveries to loopback or private addresses.
    let sim = SimConfig {
        allow_non_routable_ips: false,
        ..SimConfig::default()
    };
    let sys = System::start(options(&["laptop"], &["Home"], sim))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let id = sys.sim.create_task(home, "Labelled").id;
    let label = sys.sim.create_label("errand");
    sys.sim.add_label(id, label.id).unwrap();
    let config = config_file(&sys, &sys.sim.token());

    let report = vikunja_sync::doctor::run(Some(&config)).await;
    eprintln!("{report}");
    let found = problems(&report.findings);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].check, "webhook delivery", "{report}");
    assert!(found[0].found.contains("did not reach"), "{report}");
    let fix = found[0].fix.as_deref().unwrap();
    assert!(fix.contains("is a private address"), "{report}");
    assert!(
        fix.contains("outgoingrequests.allownonroutableips: true"),
        "{report}"
    );
    assert!(
        fix.contains("something answers there"),
        "the ingress listens: {report}"
    );
    sys.shutdown().await.unwrap();
}
