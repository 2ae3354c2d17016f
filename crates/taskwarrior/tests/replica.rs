//! The in-process backend against a real Taskwarrior 3 (scripts/test.sh runs `*_tw3` on 3.x):
//! what it writes reads back through `task export` exactly as what `task import` writes, it
//! refuses a replica of another schema without touching it, and user commands racing it
//! neither fail nor lose anything.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use vsync_harness::{TwHost, require_taskwarrior, taskwarrior_version};
use vsync_model::TwTask;
use vsync_taskwarrior::{Apply, Backend, DataStamp, Refusal, SCHEMA, Taskwarrior};

mod support;
use support::*;

fn cli(h: &TwHost) -> Taskwarrior {
    Taskwarrior::new(h.task_bin().into(), h.taskrc(), h.data_dir())
}

/// A host with the user's first task, made by `task import`.
async fn seeded(name: &str) -> TwHost {
    let h = TwHost::new(name);
    h.configure("uda.estimate.type=duration");
    h.configure("uda.when.type=date");
    cli(&h).import(&tasks(json!([seed()]))).await.unwrap();
    h
}

/// A seeded host whose watcher writes in-process.
async fn replica_host(name: &str) -> (TwHost, Backend) {
    let h = seeded(name).await;
    let (b, refusal) = Backend::select(&cli(&h), taskwarrior_version(), true).await;
    assert_eq!(b.name(), "replica", "refused: {refusal:?}");
    (h, b)
}

fn tasks(v: Value) -> Vec<TwTask> {
    let Value::Array(a) = v else {
        panic!("not a list")
    };
    a.into_iter()
        .map(|t| TwTask::from_value(t).unwrap())
        .collect()
}

#[tokio::test]
async fn the_linked_taskchampion_writes_this_schema() {
    let dir = tempfile::tempdir().unwrap();
    let storage = taskchampion::SqliteStorage::new(
        dir.path(),
        taskchampion::storage::AccessMode::ReadWrite,
        true,
    )
    .await
    .unwrap();
    drop(taskchampion::Replica::new(storage));
    assert_eq!(schema_version(dir.path()), Some(SCHEMA));
}

#[tokio::test]
async fn taskwarrior_3_writes_the_schema_taskchampion_writes_tw3() {
    require_taskwarrior(3);
    let h = TwHost::new("schema");
    h.add(&["first"]);
    assert_eq!(schema_version(&h.data_dir()), Some(SCHEMA));
    let (b, refusal) = Backend::select(&cli(&h), taskwarrior_version(), true).await;
    assert_eq!((b.name(), refusal), ("replica", None));
}

/// Every round is applied to one host in-process and to another by `task import`; after each,
/// both hosts' `task export` agree on every field of every task (`modified` aside: each is the
/// time of its host's write) and on the ids the user sees.
#[tokio::test]
async fn replica_writes_read_back_as_task_import_writes_them_tw3() {
    require_taskwarrior(3);
    let (a, replica) = replica_host("by-replica").await;
    let b = seeded("by-import").await;
    let mut last = Vec::new();
    for (i, round) in rounds().into_iter().enumerate() {
        last = tasks(round);
        let results = replica.apply(&last).await;
        assert!(results.iter().all(Result::is_ok), "round {i}: {results:?}");
        for r in cli(&b).apply(&last).await {
            r.unwrap();
        }
        assert_same_exports(&a, &b, i);
    }
    // What the host already shows is not written again (no operation, no new `modified`).
    let ops = operation_count(&a.data_dir());
    let modified = a.get(U5).unwrap()["modified"].clone();
    for r in replica.apply(&last).await {
        r.unwrap();
    }
    assert_eq!(operation_count(&a.data_dir()), ops, "nothing written");
    assert_eq!(a.get(U5).unwrap()["modified"], modified);
}

fn assert_same_exports(a: &TwHost, b: &TwHost, round: usize) {
    let by_uuid = |h: &TwHost| -> BTreeMap<String, Value> {
        h.export()
            .into_iter()
            .map(|mut t| {
                let m = t.as_object_mut().unwrap();
                assert!(m.remove("modified").is_some(), "modified set");
                m.remove("urgency"); // computed from the time of the export
                (m["uuid"].as_str().unwrap().to_string(), t)
            })
            .collect()
    };
    let (ea, eb) = (by_uuid(a), by_uuid(b));
    assert_eq!(
        ea.keys().collect::<Vec<_>>(),
        eb.keys().collect::<Vec<_>>(),
        "round {round}: the same tasks"
    );
    for (uuid, ta) in &ea {
        let tb = &eb[uuid];
        let keys: std::collections::BTreeSet<&String> = ta
            .as_object()
            .unwrap()
            .keys()
            .chain(tb.as_object().unwrap().keys())
            .collect();
        for k in keys {
            if write_time(k, ta.get(k), tb.get(k)) {
                continue;
            }
            assert_eq!(
                ta.get(k),
                tb.get(k),
                "round {round}, task {uuid}, field {k}"
            );
        }
    }
}

/// A replica of another schema version is refused and left exactly as it was; the CLI applies.
#[tokio::test]
async fn a_replica_of_another_schema_is_not_touched_and_the_cli_applies_tw3() {
    require_taskwarrior(3);
    let h = seeded("old-schema").await;
    let db = h.data_dir().join("taskchampion.sqlite3");
    let con = rusqlite::Connection::open(&db).unwrap();
    con.execute("UPDATE version SET minor = 1", []).unwrap();
    drop(con);
    let (b, refusal) = Backend::select(&cli(&h), taskwarrior_version(), true).await;
    assert_eq!(b.name(), "cli");
    assert_eq!(
        refusal,
        Some(Refusal::Schema {
            found: Some((0, 1)),
            wanted: SCHEMA
        })
    );
    assert_eq!(schema_version(&h.data_dir()), Some((0, 1)), "not migrated");
    // Changed under a running writer: refused from the next batch on, the CLI applies it.
    let (h2, writer) = replica_host("schema-changes").await;
    let con = rusqlite::Connection::open(h2.data_dir().join("taskchampion.sqlite3")).unwrap();
    con.execute("UPDATE version SET major = 1", []).unwrap();
    drop(con);
    let results = writer.apply(&tasks(json!([rich(json!({}))]))).await;
    // Taskwarrior itself refuses a replica of a newer major version: so does everything here.
    assert!(results[0].is_err(), "{results:?}");
    assert_eq!(schema_version(&h2.data_dir()), Some((1, 2)), "not migrated");
}

/// Turned off, or not Taskwarrior 3: the CLI.
#[tokio::test]
async fn the_cli_when_turned_off_or_not_taskwarrior_3() {
    let h = TwHost::new("off");
    let (b, r) = Backend::select(&cli(&h), "3.5.0", false).await;
    assert_eq!((b.name(), r), ("cli", Some(Refusal::TurnedOff)));
    let (b, r) = Backend::select(&cli(&h), "2.6.2", true).await;
    assert_eq!(b.name(), "cli");
    assert_eq!(r, Some(Refusal::NotTaskwarrior3("2.6.2".into())));
}

/// What no hook reports on 3.x changes the data stamp: `task undo`, and a command with hooks
/// off; our own write changes it too (the watcher takes the stamp after its writes).
#[tokio::test]
async fn undo_and_hookless_writes_change_the_data_stamp_tw3() {
    require_taskwarrior(3);
    let (h, writer) = replica_host("stamp").await;
    let data = h.data_dir();
    let s0 = DataStamp::read(&data);
    assert_eq!(s0, DataStamp::read(&data), "stable while nothing writes");
    for r in writer.apply(&tasks(json!([rich(json!({}))]))).await {
        r.unwrap();
    }
    let s1 = DataStamp::read(&data);
    assert_ne!(s0, s1, "our write");
    h.ok(&["rc.hooks=off", U1, "modify", "priority:L"]);
    let s2 = DataStamp::read(&data);
    assert_ne!(s1, s2, "a command with hooks off");
    h.ok(&["rc.confirmation=off", "undo"]);
    assert_ne!(s2, DataStamp::read(&data), "task undo");
    assert_eq!(h.get(U1).unwrap()["priority"], "H", "undone");
}

/// An `entry` or `end` a task was sent without is each host's write time: the two writes run
/// one after the other and may fall into neighbouring seconds.
fn write_time(field: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    let epoch = |v: Option<&Value>| vsync_model::dates::parse_tw(v?.as_str()?);
    matches!(field, "entry" | "end")
        && matches!((epoch(a), epoch(b)), (Some(x), Some(y)) if (x - y).abs() <= 2)
}
