//! What the hook costs the user: `task <id> modify` wall time, p50 over many runs, without
//! our hooks and with several sets of them, and with `/bin/true` as the on-exit hook (what any
//! hook costs), interleaved in one run against a listener that reads each datagram at once
//! (the watcher's fast path). Also the bare hook process, spawned
//! directly. Run: `cargo bench -p vikunja-sync-hook --bench hook_overhead`
//! (`BENCH_RUNS=N` changes the runs per variant, default 150).
#![allow(clippy::unwrap_used)]

#[path = "../tests/it/support.rs"]
mod support;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Listener, Tw, hook_binary};
use vikunja_sync::hook::links::link;
use vsync_hook_wire::{HookKind, SOCKET_ENV, SPOOL_ENV};

struct Variant {
    name: &'static str,
    hooks_dir: PathBuf,
    samples: Vec<Duration>,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let tw = Tw::new("bench");
    let listener = Listener::start(&tw.default_socket(), true);
    let uuid = tw.add(&["benchmark", "task"]);

    let sets: [(&str, &[HookKind]); 4] = [
        ("no hooks", &[]),
        (
            "all 3 (add, modify, exit)",
            &[HookKind::Add, HookKind::Modify, HookKind::Exit],
        ),
        ("on-exit only", &[HookKind::Exit]),
        ("on-modify only", &[HookKind::Modify]),
    ];
    let mut variants: Vec<Variant> = sets
        .iter()
        .enumerate()
        .map(|(i, (name, events))| {
            let hooks_dir = tw.dir.path().join(format!("hooks-{i}"));
            std::fs::create_dir_all(&hooks_dir).unwrap();
            link(&hooks_dir, &hook_binary(), events).unwrap();
            Variant {
                name,
                hooks_dir,
                samples: Vec::with_capacity(runs),
            }
        })
        .collect();
    // What any on-exit hook costs: Taskwarrior running `/bin/true` as one.
    let noop_dir = tw.dir.path().join("hooks-noop");
    std::fs::create_dir_all(&noop_dir).unwrap();
    std::os::unix::fs::symlink("/bin/true", noop_dir.join("on-exit.noop")).unwrap();
    variants.push(Variant {
        name: "on-exit /bin/true (any hook)",
        hooks_dir: noop_dir,
        samples: Vec::with_capacity(runs),
    });
    // VSYNC_HOOK_BIN: the hook as users install it (`cargo build-hook`: statically linked);
    // this bench's own build of it is dynamic.
    if let Some(bin) = std::env::var_os("VSYNC_HOOK_BIN") {
        let dir = tw.dir.path().join("hooks-static");
        std::fs::create_dir_all(&dir).unwrap();
        link(&dir, std::path::Path::new(&bin), &[HookKind::Exit]).unwrap();
        variants.push(Variant {
            name: "on-exit only, VSYNC_HOOK_BIN",
            hooks_dir: dir,
            samples: Vec::with_capacity(runs),
        });
    }

    let mut n = 0usize;
    let mut run_once = |v: &Variant| -> Duration {
        n += 1;
        let loc = format!("rc.hooks.location={}", v.hooks_dir.display());
        let project = format!("project:p{n}");
        let mut cmd = tw.command(&[&loc, &uuid, "modify", &project]);
        let started = Instant::now();
        let out = cmd.output().unwrap();
        let took = started.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    // Warm-up (page cache, TW's files), then interleave the variants round by round so drift
    // (the undo log growing, other load) hits all of them alike.
    for v in &variants {
        for _ in 0..5 {
            run_once(v);
        }
    }
    for _ in 0..runs {
        for v in &mut variants {
            let took = run_once(v);
            v.samples.push(took);
        }
    }
    let delivered = listener.pending().len();
    assert!(
        !tw.default_spool().exists(),
        "nothing should have been spooled"
    );

    println!(
        "task <uuid> modify, {runs} runs per variant, Taskwarrior {}",
        tw_version()
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>12}",
        "variant", "p50 ms", "p90 ms", "min ms", "p50 delta ms"
    );
    let base = {
        let mut s = variants[0].samples.clone();
        s.sort();
        pct(&s, 0.5)
    };
    for v in &variants {
        let mut s = v.samples.clone();
        s.sort();
        let p50 = pct(&s, 0.5);
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>9.2} {:>+12.2}",
            v.name,
            ms(p50),
            ms(pct(&s, 0.9)),
            ms(s[0]),
            ms(p50) - ms(base)
        );
    }
    println!("messages delivered to the listener: {delivered}");

    // The bare hook process: spawn + echo (+ hand-over for on-exit), no Taskwarrior.
    let task = br#"{"description":"benchmark task","entry":"20260101T000000Z","modified":"20260101T000000Z","status":"pending","uuid":"11111111-2222-3333-4444-555555555555"}"#;
    let spool = tw.dir.path().join("direct-spool.jsonl");
    for (name, input, command) in [
        (
            "hook on-modify (echo)",
            [&task[..], b"\n", &task[..], b"\n"].concat(),
            "modify",
        ),
        (
            "hook on-exit (hand-over)",
            [&task[..], b"\n"].concat(),
            "modify",
        ),
    ] {
        let argv0 = if command == "modify" && name.contains("on-modify") {
            "on-modify.vikunja-sync"
        } else {
            "on-exit.vikunja-sync"
        };
        let mut samples: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let mut child = Command::new(hook_binary())
                    .arg0(argv0)
                    .arg(format!("command:{command}"))
                    .arg(format!("data:{}", tw.data.display()))
                    .env_remove(SOCKET_ENV)
                    .env(SPOOL_ENV, &spool)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(&input).unwrap();
                let out = child.wait_with_output().unwrap();
                let took = started.elapsed();
                assert!(out.status.success());
                took
            })
            .collect();
        samples.sort();
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>9.2}",
            name,
            ms(pct(&samples, 0.5)),
            ms(pct(&samples, 0.9)),
            ms(samples[0])
        );
    }
    assert!(
        !spool.exists(),
        "direct on-exit runs should have reached the listener"
    );

    // The floor: spawning any process at all on this machine.
    let mut floor: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new("/bin/true").status().unwrap();
            assert!(status.success());
            started.elapsed()
        })
        .collect();
    floor.sort();
    println!(
        "{:<28} {:>9.2} {:>9.2} {:>9.2}",
        "spawn floor (/bin/true)",
        ms(pct(&floor, 0.5)),
        ms(pct(&floor, 0.9)),
        ms(floor[0])
    );
}

fn tw_version() -> String {
    Command::new(std::env::var_os("TASK_BIN").unwrap_or_else(|| "task".into()))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
