//! User commands racing the in-process writer on Taskwarrior 3 (issue 15's lock-safety check):
//! 100 user `task add`/`modify` commands while 1,000 incoming changes are written end with 0
//! failed commands, 0 partial tasks and nothing lost.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vsync_harness::{TwHost, require_taskwarrior, taskwarrior_version};
use vsync_model::TwTask;
use vsync_taskwarrior::{Apply, Backend, Taskwarrior};

const SYNC_TASKS: usize = 500; // each created, then changed: 1,000 changes
const USER_THREADS: usize = 4;
const USER_PAIRS: usize = 13; // per thread: add + modify, 4 x 13 x 2 = 104 commands
const WRITE_BATCH: usize = 10;

fn sync_task(i: usize, version: u32) -> TwTask {
    let mut t = json!({
        "uuid": format!("{i:08x}-0000-4000-8000-000000000000"),
        "description": format!("sync {i} v{version}"), "status": "pending",
        "entry": "20260101T000000Z", "project": "Synced", "tags": ["s"], "vikunja_id": i + 1,
    });
    if version == 2 {
        t["priority"] = json!("M");
        t["annotations"] = json!([{"entry": "20260102T000000Z", "description": "changed"}]);
    }
    TwTask::from_value(t).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_racing_the_replica_writer_never_fail_or_lose_a_write_tw3() {
    require_taskwarrior(3);
    let host = Arc::new(TwHost::new("race"));
    host.add(&["before"]);
    let cli = Taskwarrior::new(host.task_bin().into(), host.taskrc(), host.data_dir());
    let (writer, refusal) = Backend::select(&cli, taskwarrior_version(), true).await;
    assert_eq!(writer.name(), "replica", "{refusal:?}");

    let t0 = Instant::now();
    // User commands started so far: the writer interleaves its batches with them.
    let begun = Arc::new(AtomicUsize::new(0));
    let users: Vec<_> = (0..USER_THREADS)
        .map(|n| {
            let (host, begun) = (host.clone(), begun.clone());
            std::thread::spawn(move || {
                let mut runs = Vec::new(); // (start, end, ok, stderr)
                for k in 0..USER_PAIRS {
                    begun.fetch_add(1, Ordering::SeqCst);
                    let started = t0.elapsed();
                    let add = host.task(&["rc.verbose=new-uuid", "add", &format!("user {n}-{k}")]);
                    let out = String::from_utf8_lossy(&add.stdout).to_string();
                    runs.push((started, t0.elapsed(), add.status.success(), stderr(&add)));
                    let Some(uuid) = out.split_whitespace().find(|w| w.len() >= 36) else {
                        continue;
                    };
                    let uuid = uuid.trim_end_matches('.').to_string();
                    begun.fetch_add(1, Ordering::SeqCst);
                    let started = t0.elapsed();
                    let m = host.task(&[&uuid, "modify", "priority:H", "+mine"]);
                    runs.push((started, t0.elapsed(), m.status.success(), stderr(&m)));
                }
                runs
            })
        })
        .collect();
    let write_start = t0.elapsed();
    let mut changes: Vec<TwTask> = (0..SYNC_TASKS).map(|i| sync_task(i, 1)).collect();
    changes.extend((0..SYNC_TASKS).map(|i| sync_task(i, 2)));
    // Batch b is written once b user commands have begun: the writes span the commands.
    for (b, batch) in changes.chunks(WRITE_BATCH).enumerate() {
        let begun = begun.clone();
        vsync_harness::wait_for_async("user commands", Duration::from_secs(60), || {
            let n = begun.load(Ordering::SeqCst);
            async move { (n >= b.min(USER_THREADS * USER_PAIRS * 2)).then_some(()) }
        })
        .await;
        for r in writer.apply(batch).await {
            r.unwrap();
        }
    }
    let write_end = t0.elapsed();
    let runs: Vec<_> = users.into_iter().flat_map(|u| u.join().unwrap()).collect();

    let failed: Vec<_> = runs.iter().filter(|r| !r.2).map(|r| r.3.clone()).collect();
    assert!(failed.is_empty(), "failed user commands: {failed:?}");
    assert_eq!(runs.len(), USER_THREADS * USER_PAIRS * 2);
    let during = runs
        .iter()
        .filter(|r| r.0 < write_end && r.1 > write_start)
        .count();
    assert!(
        during >= 10,
        "only {during} user commands overlapped the writes: no race tested"
    );

    let all = host.export();
    let user_tasks: Vec<&Value> = all
        .iter()
        .filter(|t| t["description"].as_str().unwrap().starts_with("user "))
        .collect();
    assert_eq!(
        user_tasks.len(),
        USER_THREADS * USER_PAIRS,
        "user adds lost"
    );
    for t in &user_tasks {
        assert_eq!(t["priority"], "H", "a user's modify lost: {t}");
        assert_eq!(t["tags"], json!(["mine"]), "a user's modify lost: {t}");
    }
    for i in 0..SYNC_TASKS {
        let want = sync_task(i, 2);
        let got = all
            .iter()
            .find(|t| t["uuid"] == want.0["uuid"])
            .unwrap_or_else(|| panic!("sync task {i} lost"));
        for k in [
            "description",
            "project",
            "tags",
            "priority",
            "annotations",
            "status",
        ] {
            assert_eq!(got[k], want.0[k], "sync task {i}: {k} partial or lost");
        }
        assert_eq!(got["vikunja_id"].as_f64(), Some((i + 1) as f64));
    }
    assert_eq!(all.len(), 1 + USER_THREADS * USER_PAIRS + SYNC_TASKS);
    eprintln!(
        "{} user commands, {during} during the writes ({write_start:?}..{write_end:?})",
        runs.len()
    );
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
