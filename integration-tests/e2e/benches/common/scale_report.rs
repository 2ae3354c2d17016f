//! What the scale benchmark prints and draws (tables, plots), apart from what it measures.

use super::Step;

/// Each service's higher RSS of the two readings (after the burst, after the full pass).
fn rss_max(s: &Step) -> Vec<(String, f64)> {
    s.rss_mb
        .iter()
        .map(|(n, r)| {
            let full = s
                .rss_full_mb
                .iter()
                .find(|(m, _)| m == n)
                .map_or(0.0, |x| x.1);
            (n.clone(), r.max(full))
        })
        .collect()
}

pub(crate) fn print_step(s: &Step) {
    let b = &s.burst;
    println!(
        "\n## {} tasks: burst of {} webhooks: {:.0} events/s end to end, last applied {:.0} ms \
         after the last POST, per event p50 {:.1} ms p99 {:.1} ms",
        s.tasks, b.n, b.events_per_s, b.last_after_post_ms, b.p50_ms, b.p99_ms
    );
    println!("| service | RSS MiB after the burst | after the full pass | of which file-backed |");
    println!("|---|---|---|---|");
    for (i, (name, rss)) in s.rss_mb.iter().enumerate() {
        let at = |v: &[(String, f64)]| v.get(i).map_or(0.0, |x| x.1);
        println!(
            "| {name} | {rss:.1} | {:.1} | {:.1} |",
            at(&s.rss_full_mb),
            at(&s.rss_file_mb)
        );
    }
    println!("| bus connection | idle KiB read/min |");
    println!("|---|---|");
    for (name, read) in &s.idle_read_kb_per_min {
        println!("| {name} | {read:.1} |");
    }
    println!(
        "idle Vikunja requests per minute: {:.0}; no-op full pass: {:.0} ms in all (Vikunja's {} ms, \
         {} API calls; the slowest host's {} ms)",
        s.idle_requests_per_min,
        s.noop_full_ms,
        s.noop_vikunja_ms,
        s.noop_full_calls,
        s.noop_host_ms
    );
}

pub(crate) fn print_summary(steps: &[Step], (without, with): (f64, f64)) {
    println!("\n## Scale summary");
    println!(
        "| tasks | burst | events/s | last after POST ms | p50 ms | p99 ms | max RSS MiB | idle KiB/min (all) | idle requests/min | no-op full pass ms (Vikunja / slowest host) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in steps {
        let b = &s.burst;
        let max_rss = rss_max(s).iter().map(|(_, r)| *r).fold(0.0, f64::max);
        let idle: f64 = s.idle_read_kb_per_min.iter().map(|(_, r)| r).sum();
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {max_rss:.1} | {idle:.0} | {:.0} | {:.0} ({} / {}) |",
            s.tasks,
            b.n,
            b.events_per_s,
            b.last_after_post_ms,
            b.p50_ms,
            b.p99_ms,
            s.idle_requests_per_min,
            s.noop_full_ms,
            s.noop_vikunja_ms,
            s.noop_host_ms
        );
    }
    println!(
        "\none project answering 2 s per request: the other projects' webhook -> host p50 \
         {with:.1} ms, against {without:.1} ms without it ({:.2}x)",
        with / without
    );
}

pub(crate) fn plot(steps: &[Step], dir: &std::path::Path) {
    use vsync_e2e::plot::{Series, line_chart};
    let xs: Vec<f64> = steps.iter().map(|s| s.tasks as f64).collect();
    let latency = [
        Series::new(
            "p50 ms",
            xs.iter().zip(steps.iter().map(|s| s.burst.p50_ms)),
        ),
        Series::new(
            "p99 ms",
            xs.iter().zip(steps.iter().map(|s| s.burst.p99_ms)),
        ),
    ];
    let services: Vec<String> = steps
        .first()
        .map(|s| s.rss_mb.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let rss: Vec<Series> = services
        .iter()
        .map(|name| {
            Series::new(
                name,
                xs.iter().zip(steps.iter().map(|s| {
                    rss_max(s)
                        .iter()
                        .find(|(n, _)| n == name)
                        .map_or(0.0, |(_, r)| *r)
                })),
            )
        })
        .collect();
    let _ = std::fs::create_dir_all(dir);
    for (file, title, y, series) in [
        (
            "scale-latency.svg",
            "Webhook -> host applied, per event, in a burst",
            "ms",
            &latency[..],
        ),
        (
            "scale-rss.svg",
            "Resident memory per service (the higher of after a burst, after a full pass)",
            "MiB",
            &rss[..],
        ),
    ] {
        let svg = line_chart(title, "tasks", y, series);
        match std::fs::write(dir.join(file), svg) {
            Ok(()) => println!("plot: {}", dir.join(file).display()),
            Err(e) => eprintln!("cannot write {file}: {e}"),
        }
    }
}
