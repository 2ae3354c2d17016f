//! The demo: one change each way through a whole [`System`], with the measured latency.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use serde_json::Value;

use crate::{Options, System};

fn describe(t: &Value) -> String {
    let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    format!(
        "\"{}\" project:{} status:{}",
        s("description"),
        s("project"),
        s("status")
    )
}

/// `vikunja-sync demo`: the default system (two hosts, project Home).
pub async fn run() -> anyhow::Result<()> {
    run_with(Options::default()).await
}

/// The demo with explicit options (tests pass the hook binary they built).
pub async fn run_with(opts: Options) -> anyhow::Result<()> {
    println!(
        "vikunja-sync demo: starting nats-server, the Vikunja simulator, the services and two Taskwarrior hosts"
    );
    if opts.hook_bin.is_none() {
        anyhow::bail!(
            "cannot find the vikunja-sync-hook program next to vikunja-sync-demo or on PATH"
        );
    }
    let sys = System::start(opts).await?;
    println!("  bus      {} (JetStream, temporary store)", sys.bus_url());
    println!("  Vikunja  {} (simulator)", sys.sim.base_url());
    for h in &sys.hosts {
        println!(
            "  host     {:<7} TASKDATA={}",
            h.name,
            h.data_dir().display()
        );
    }
    let project = sys
        .sim
        .projects()
        .into_iter()
        .find(|p| p.title == "Home")
        .context("demo project")?;
    vsync_harness::wait_for_async(
        "the webhook to be registered",
        Duration::from_secs(10),
        || async { (!sys.sim.webhooks(project.id).is_empty()).then_some(()) },
    )
    .await;

    // Vikunja -> Taskwarrior
    let mut notices = sys.applied_notices().await?;
    let t0 = Instant::now();
    let task = sys.sim.create_task(project.id, "Buy milk");
    println!(
        "\n-> created in Vikunja: \"Buy milk\" in project Home (task #{})",
        task.id
    );
    let mut arrived = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(15));
    tokio::pin!(deadline);
    while arrived.len() < sys.hosts.len() {
        tokio::select! {
            _ = &mut deadline => anyhow::bail!("the task did not reach every host within 15 s"),
            a = notices.next() => {
                let Some(a) = a else { anyhow::bail!("bus closed") };
                if !arrived.iter().any(|(h, _): &(String, Duration)| *h == a.host) {
                    arrived.push((a.host, t0.elapsed()));
                }
            }
        }
    }
    for (host, after) in &arrived {
        let tw = sys.host(host);
        let t = tw
            .find("Buy milk")
            .context("task missing from task export")?;
        println!(
            "   {host:<7} after {:>6.1} ms   task export: {}",
            after.as_secs_f64() * 1e3,
            describe(&t)
        );
    }

    // Taskwarrior -> Vikunja and the other host
    let (first, second) = (&sys.hosts[0], &sys.hosts[1]);
    let t1 = Instant::now();
    first.add(&["Call Bob", "project:Home", "due:tomorrow"]);
    println!(
        "\n-> task add on {}: \"Call Bob\" project:Home due:tomorrow",
        first.name
    );
    let sim = sys.sim.clone();
    let id = vsync_harness::wait_for("the task in Vikunja", Duration::from_secs(15), move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title == "Call Bob")
            .map(|t| t.id)
    })
    .await;
    println!(
        "   Vikunja after {:>6.1} ms   task #{id}",
        t1.elapsed().as_secs_f64() * 1e3
    );
    let mut seen = None;
    while seen.is_none() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(15)) => anyhow::bail!("the task did not reach {}", second.name),
            a = notices.next() => {
                let Some(a) = a else { anyhow::bail!("bus closed") };
                if a.host == second.name && second.find("Call Bob").is_some() {
                    seen = Some(t1.elapsed());
                }
            }
        }
    }
    if let (Some(after), Some(t)) = (seen, second.find("Call Bob")) {
        println!(
            "   {:<7} after {:>6.1} ms   task export: {}",
            second.name,
            after.as_secs_f64() * 1e3,
            describe(&t)
        );
    }
    sys.shutdown().await?;
    println!("\ndemo finished: one change each way reached every side.");
    Ok(())
}
