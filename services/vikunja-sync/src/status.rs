//! `vikunja-sync status`: what the bus knows: tasks, pending events, hosts and their lag, dead
//! letters and recent conflicts.

use std::fmt::Write as _;

use futures::StreamExt;
use vsync_bus::async_nats::jetstream::{self, consumer};
use vsync_bus::{Bus, CONFLICTS_STREAM, DEAD_STREAM, EVENTS_STREAM, TASKS_STREAM};
use vsync_proto::Conflict;

/// A status report, as text.
pub async fn report(bus: &Bus) -> anyhow::Result<String> {
    let js = bus.jetstream();
    let mut out = String::new();
    let mut tasks = js.get_stream(TASKS_STREAM).await?;
    writeln!(
        out,
        "tasks (canonical): {}",
        tasks.info().await?.state.messages
    )?;
    let events = js.get_stream(EVENTS_STREAM).await?;
    let pending = match events
        .get_consumer::<consumer::pull::Config>(vsync_bus::RECONCILER_CONSUMER)
        .await
    {
        Ok(mut c) => c.info().await?.num_pending.to_string(),
        Err(_) => "reconciler not started yet".into(),
    };
    writeln!(out, "events waiting for the reconciler: {pending}")?;
    writeln!(out, "hosts:")?;
    let mut names = tasks.consumer_names();
    while let Some(name) = names.next().await {
        let name = name?;
        if let Some(host) = name.strip_prefix("host-") {
            let mut c = tasks
                .get_consumer::<consumer::pull::Config>(&name)
                .await
                .map_err(|e| anyhow::anyhow!("consumer {name}: {e}"))?;
            let info = c.info().await?;
            writeln!(
                out,
                "  {:<20} {} change(s) not applied yet",
                vsync_bus::subject::decode_token(host).unwrap_or_else(|| host.to_string()),
                info.num_pending + info.num_ack_pending as u64
            )?;
        }
    }
    match bus.meta().get("reconcile.last").await.ok().flatten() {
        Some(v) => match serde_json::from_slice::<reconciler::ReconcileReport>(&v) {
            Ok(r) => {
                let ago = (vsync_model::dates::now_us() - r.finished_at_us) / 1_000_000;
                write!(out, "last reconcile {ago} s ago: {r}")?;
            }
            Err(_) => writeln!(out, "last reconcile: unreadable")?,
        },
        None => writeln!(out, "last reconcile: none yet")?,
    }
    let mut dead = js.get_stream(DEAD_STREAM).await?;
    writeln!(out, "dead letters: {}", dead.info().await?.state.messages)?;
    writeln!(out, "recent conflicts:")?;
    for c in recent_conflicts(js, 10).await? {
        writeln!(
            out,
            "  {} {}: kept {:?}, overwrote {:?}",
            c.uuid, c.field, c.kept_value, c.lost_value
        )?;
    }
    Ok(out)
}

/// The newest `n` entries of the conflict log.
pub async fn recent_conflicts(js: &jetstream::Context, n: u64) -> anyhow::Result<Vec<Conflict>> {
    let mut stream = js.get_stream(CONFLICTS_STREAM).await?;
    let state = stream.info().await?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    let from = state
        .last_sequence
        .saturating_sub(n - 1)
        .max(state.first_sequence);
    for seq in from..=state.last_sequence {
        if let Ok(m) = stream.get_raw_message(seq).await
            && let Ok(c) = vsync_bus::decode::<Conflict>("Conflict", &m.payload)
        {
            out.push(c);
        }
    }
    Ok(out)
}
