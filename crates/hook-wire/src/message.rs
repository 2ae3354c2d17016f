//! The one message the hook hands to tw-watcher (one JSON line).

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Version of the hook <-> watcher line format (`"v"`).
pub const PROTOCOL_VERSION: u32 = 1;

/// What the hook saw, as handed to tw-watcher:
/// `{"v":1,"event":"exit","at_us":…,"command":"modify","tasks":[…],"removed":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookMessage {
    /// Format version, [`PROTOCOL_VERSION`].
    pub v: u32,
    /// Which hook event produced the message.
    pub event: HookEvent,
    /// When the hook ran, Unix time in microseconds.
    pub at_us: i64,
    /// Taskwarrior's `command:` argument (`add`, `modify`, `undo`, …).
    pub command: String,
    /// The task JSON objects exactly as Taskwarrior gave them to the hook.
    #[serde(default)]
    pub tasks: Vec<serde_json::Value>,
    /// UUIDs of tasks that no longer exist (an undone `add`).
    #[serde(default)]
    pub removed: Vec<String>,
    /// When the `task` command that ran the hook started (Unix microseconds, about 10 ms
    /// precision), if known: tells the watcher whether the command could have read the data
    /// before one of its own imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_us: Option<i64>,
}

/// The hook event a [`HookMessage`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookEvent {
    /// on-exit: every task added or modified by the command.
    Exit,
    /// on-modify during `task undo` (Taskwarrior 2.6 shows undo only there).
    Undo,
}

impl HookMessage {
    /// A message stamped with the current time.
    pub fn new(
        event: HookEvent,
        command: impl Into<String>,
        tasks: Vec<serde_json::Value>,
        removed: Vec<String>,
    ) -> Self {
        HookMessage {
            v: PROTOCOL_VERSION,
            event,
            at_us: now_us(),
            command: command.into(),
            tasks,
            removed,
            started_us: None,
        }
    }

    /// The message as one JSON line, without the trailing newline.
    pub fn to_line(&self) -> String {
        // Serialising Values and plain fields cannot fail; keep a valid line regardless.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Unix time now in microseconds (0 if the clock is before 1970).
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn line_format_matches_the_architecture_doc() {
        let task = serde_json::json!({"uuid": "u1", "description": "d"});
        let mut msg = HookMessage::new(HookEvent::Exit, "add", vec![task.clone()], vec![]);
        msg.at_us = 42;
        assert_eq!(
            msg.to_line(),
            r#"{"v":1,"event":"exit","at_us":42,"command":"add","tasks":[{"description":"d","uuid":"u1"}],"removed":[]}"#
        );
        let back: HookMessage = serde_json::from_str(&msg.to_line()).unwrap();
        assert_eq!(back, msg);
        let undo: HookMessage = serde_json::from_str(
            r#"{"v":1,"event":"undo","at_us":1,"command":"undo","removed":["x"]}"#,
        )
        .unwrap();
        assert_eq!(undo.event, HookEvent::Undo);
        assert!(undo.tasks.is_empty());
    }
}
