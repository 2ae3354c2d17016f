//! Property tests over hostile hook input (issue 14, "parsers fuzzed"): a spool holding any
//! bytes between well-formed messages gives back every message and reports the rest as
//! malformed, never panicking; any message survives the line format. Bounded cases
//! (`VSYNC_FUZZ_CASES`, default 256).

use proptest::prelude::*;
use serde_json::{Value, json};
use vsync_hook_wire::{HookEvent, HookMessage, drain_spool_report};

fn config() -> ProptestConfig {
    let cases = std::env::var("VSYNC_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn message() -> impl Strategy<Value = HookMessage> {
    (
        any::<bool>(),
        ".{0,12}",
        prop::collection::vec((".{0,16}", ".{0,40}"), 0..4),
        prop::collection::vec("[0-9a-f-]{0,36}", 0..3),
        any::<i64>(),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(undo, command, tasks, removed, at_us, started_us)| {
            let tasks: Vec<Value> = tasks
                .into_iter()
                .map(|(uuid, description)| json!({"uuid": uuid, "description": description}))
                .collect();
            let event = if undo {
                HookEvent::Undo
            } else {
                HookEvent::Exit
            };
            HookMessage {
                at_us,
                started_us,
                ..HookMessage::new(event, command, tasks, removed)
            }
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_message_survives_its_line(msg in message()) {
        let line = msg.to_line();
        prop_assert!(!line.contains('\n'));
        let back: HookMessage = serde_json::from_str(&line).expect("own line parses");
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn a_spool_of_garbage_and_messages_loses_no_message(
        msgs in prop::collection::vec(message(), 0..4),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..4),
    ) {
        let dir = tempfile::tempdir().expect("dir");
        let spool = dir.path().join("spool.jsonl");
        let mut content = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            if let Some(g) = garbage.get(i) {
                content.extend(g.iter().filter(|b| **b != b'\n'));
                content.push(b'\n');
            }
            content.extend(m.to_line().as_bytes());
            content.push(b'\n');
        }
        std::fs::write(&spool, &content).expect("write");
        let drained = drain_spool_report(&spool).expect("drain");
        prop_assert_eq!(&drained.messages, &msgs);
        prop_assert!(drained.malformed.len() <= garbage.len());
    }
}
