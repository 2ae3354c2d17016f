//! Shared by the replica tests: the rounds of tasks both backends apply, and looks into the
//! replica file.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Value, json};

pub const U0: &str = "00000000-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U1: &str = "11111111-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U2: &str = "22222222-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U3: &str = "33333333-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U4: &str = "44444444-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U5: &str = "55555555-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U6: &str = "66666666-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U8: &str = "88888888-0f38-4a3c-9f0b-6b6a1d1e7a11";
pub const U9: &str = "99999999-0f38-4a3c-9f0b-6b6a1d1e7a11";

/// The first task of every host, made by the user.
pub fn seed() -> Value {
    json!({"uuid": U0, "description": "made by the user", "status": "pending",
        "entry": "20260101T000000Z"})
}

/// A task with every kind of field; `over` replaces some.
pub fn rich(over: Value) -> Value {
    let mut t = json!({
        "uuid": U1, "description": "café & \"quotes\"", "status": "pending",
        "entry": "20260101T000000Z", "project": "Home.Garden", "tags": ["z", "a b?", "b-c"],
        "due": "20260301T090000Z", "scheduled": "20260201T000000Z", "priority": "H",
        "vikunja_id": 42, "estimate": "PT2H", "when": "20260401T000000Z", "orphan": "x y",
        "annotations": [{"entry": "20260102T000000Z", "description": "note one"},
                        {"entry": "20260102T000000Z", "description": "same second"}],
        "modified": "20200101T000000Z", "id": 9, "urgency": 3.2
    });
    for (k, v) in over.as_object().into_iter().flatten() {
        if v.is_null() {
            t.as_object_mut().map(|m| m.remove(k));
        } else {
            t[k] = v.clone();
        }
    }
    t
}

/// Batches applied in turn: new tasks, then replacements of them, then one the rules leave to
/// `task import`.
pub fn rounds() -> Vec<Value> {
    let u5 = json!({"uuid": U5, "description": "depends", "status": "pending",
        "entry": "20260101T000000Z", "depends": [U2, U1], "tags": []});
    vec![
        json!([
            rich(json!({})),
            {"uuid": U2, "description": "done", "status": "completed",
             "entry": "20260101T000000Z", "end": "20260105T000000Z", "vikunja_id": "7"},
            {"uuid": U3, "description": "deleted without end or entry", "status": "deleted"},
            {"uuid": U4, "description": "waiting", "status": "waiting",
             "entry": "20260101T000000Z", "wait": "20990101T000000Z", "start": "20260101T000000Z"},
            u5,
            {"uuid": U6, "description": "line1\nline2\ttab ✓", "status": "pending",
             "entry": "20260101T000000Z", "n": 42.5, "estimate": "PT120M", "neg": -0.25},
            {"uuid": U9, "description": "done long ago", "status": "completed",
             "entry": "20260101T000000Z", "end": "20260105T000000Z"}
        ]),
        json!([
            rich(json!({"project": null, "tags": ["b"], "due": "20260302T090000Z",
                "annotations": [{"entry": "20260102T000000Z", "description": "note one"}]})),
            {"uuid": U2, "description": "done", "status": "pending",
             "entry": "20260101T000000Z", "end": "20260105T000000Z", "vikunja_id": "7"},
            {"uuid": U3, "description": "deleted without end or entry", "status": "pending"},
            {"uuid": U4, "description": "waiting", "status": "completed",
             "entry": "20260101T000000Z", "wait": "20990101T000000Z"},
            u5,
            {"uuid": U6, "description": "line1\nline2\ttab ✓", "status": "pending",
             "entry": "20260101T000000Z", "n": 42.5, "estimate": "PT120M", "neg": -0.25,
             "annotations": [{"entry": "20260103T000000Z", "description": "new"}]},
            {"uuid": U9, "description": "done long ago, renamed", "status": "completed",
             "entry": "20260101T000000Z"}
        ]),
        json!([
            {"uuid": U8, "description": "an RFC 3339 date: task import parses it",
             "status": "pending", "entry": "20260101T000000Z", "due": "2026-03-01T09:00:00Z"},
            rich(json!({"status": "deleted", "end": "20260110T000000Z"}))
        ]),
    ]
}

/// The replica's schema version, read directly.
pub fn schema_version(data: &Path) -> Option<(u32, u32)> {
    let con = rusqlite::Connection::open(data.join("taskchampion.sqlite3")).ok()?;
    con.query_row("SELECT major, minor FROM version", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .ok()
}

/// Rows in the replica's operations table (every write adds some).
pub fn operation_count(data: &Path) -> i64 {
    let con = rusqlite::Connection::open(data.join("taskchampion.sqlite3")).unwrap();
    con.query_row("SELECT count(*) FROM operations", [], |r| r.get(0))
        .unwrap()
}
