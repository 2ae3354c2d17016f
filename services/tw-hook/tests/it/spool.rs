//! The spool under concurrent writers and a drainer.

use crate::support::TempDir;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use vsync_hook_wire::{HookEvent, HookMessage, append_to_spool, drain_spool_report};

const WRITERS: usize = 8;
const PER_WRITER: usize = 50;

/// 8 threads x 50 appends while another thread drains over and over: every line arrives
/// exactly once, whole, and each writer's lines keep their order.
#[test]
fn concurrent_appends_and_drains_lose_and_tear_nothing() {
    let dir = TempDir::new("conc");
    let spool = Arc::new(dir.path().join("state").join("spool.jsonl"));
    let done = Arc::new(AtomicBool::new(false));

    let drainer = {
        let (spool, done) = (Arc::clone(&spool), Arc::clone(&done));
        thread::spawn(move || {
            let mut got = Vec::new();
            let mut drains = 0usize;
            loop {
                let finished = done.load(Ordering::Acquire);
                let batch = drain_spool_report(&spool).unwrap();
                assert!(
                    batch.malformed.is_empty(),
                    "torn lines: {:?}",
                    batch.malformed
                );
                got.extend(batch.messages);
                drains += 1;
                if finished {
                    return (got, drains);
                }
                thread::yield_now();
            }
        })
    };

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let spool = Arc::clone(&spool);
            thread::spawn(move || {
                for seq in 0..PER_WRITER {
                    // Lines of very different sizes (up to ~20 KiB) make tearing visible.
                    let pad = "x".repeat((w * 997 + seq * 389) % 20_000);
                    let task = serde_json::json!({"w": w, "seq": seq, "pad": pad});
                    let msg = HookMessage::new(HookEvent::Exit, format!("{w}"), vec![task], vec![]);
                    append_to_spool(&spool, &msg.to_line()).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let (got, drains) = drainer.join().unwrap();

    assert_eq!(got.len(), WRITERS * PER_WRITER, "after {drains} drains");
    let mut next_seq: HashMap<u64, u64> = HashMap::new();
    for msg in &got {
        let task = &msg.tasks[0];
        let (w, seq) = (task["w"].as_u64().unwrap(), task["seq"].as_u64().unwrap());
        let expected = next_seq.entry(w).or_insert(0);
        assert_eq!(seq, *expected, "writer {w} out of order");
        *expected += 1;
    }
    assert!(next_seq.values().all(|n| *n == PER_WRITER as u64));
    assert!(!spool.exists());
}
