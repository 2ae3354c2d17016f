//! A test delivery: Vikunja sends a real `task.updated` to our webhook and we watch it arrive
//! on the bus. The event comes from setting a task's labels to the ones it has (a non-empty
//! bulk set always fires `task.updated` and changes nothing, not even `updated`; reference
//! §1.2), so it needs a task with a label in a synced project; the sync sees an event with
//! nothing new in it.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use vsync_vikunja::{Project, VikunjaClient};

use super::Finding;

/// Vikunja retries a delivery for a few seconds; the ingress answers once JetStream stored it.
const ARRIVAL: Duration = Duration::from_secs(15);

pub async fn check(
    api: &VikunjaClient,
    target: &str,
    synced: &[Project],
    bus: Option<&vsync_bus::Bus>,
) -> Finding {
    const CHECK: &str = "webhook delivery";
    let private = private_target(target).await;
    let private_hint = if private {
        format!(
            " {target} is a private address, which Vikunja (>= 2.2) refuses to deliver to unless \
             `outgoingrequests.allownonroutableips: true` is set in its config \
             (VIKUNJA_OUTGOINGREQUESTS_ALLOWNONROUTABLEIPS=true)."
        )
    } else {
        String::new()
    };
    let Some(bus) = bus else {
        return Finding::note(
            CHECK,
            format!("no test delivery: the bus is not reachable to watch it arrive.{private_hint}"),
        );
    };
    let task = match labelled_task(api, synced).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Finding::note(
                CHECK,
                format!(
                    "no test delivery: it re-sets a task's labels unchanged, and no task in a \
                     synced project has a label; label one and run doctor again.{private_hint}"
                ),
            );
        }
        Err(e) => return Finding::note(CHECK, format!("no test delivery: {e}")),
    };
    let mut events = match bus.vikunja_task_events().await {
        Ok(s) => s,
        Err(e) => return Finding::note(CHECK, format!("cannot watch the bus for it: {e}")),
    };
    let labels: Vec<i64> = task.labels().iter().map(|(id, _)| *id).collect();
    let started = Instant::now();
    if let Err(e) = api.set_labels(task.id(), &labels).await {
        return Finding::note(CHECK, format!("cannot send a test event: {e}"));
    }
    let arrived = tokio::time::timeout(ARRIVAL, async {
        while let Some(task_id) = events.next().await {
            if task_id == task.id() {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if arrived {
        return Finding::ok(
            CHECK,
            format!(
                "a test event of task #{} reached {target} and the bus in {} ms",
                task.id(),
                started.elapsed().as_millis()
            ),
        );
    }
    let listening = match listens(target).await {
        true => "something answers there from this machine, so",
        false => "nothing answers there from this machine either (is webhook-ingress running?);",
    };
    Finding::problem(
        CHECK,
        format!(
            "Vikunja sent a test event of task #{} but it did not reach {target} within {ARRIVAL:?}",
            task.id()
        ),
        format!(
            "{listening} check that Vikunja can reach {target} (firewall, DNS, TLS) and that \
             webhook-ingress has the webhook secret the webhooks were registered with (its log \
             shows refused signatures).{private_hint}"
        ),
    )
}

/// A task with a label in one of `synced` (one page of one task).
async fn labelled_task(
    api: &VikunjaClient,
    synced: &[Project],
) -> Result<Option<vsync_model::VikunjaTask>, vsync_vikunja::VikunjaError> {
    if synced.is_empty() {
        return Ok(None);
    }
    let labels = api.labels().await?;
    if labels.is_empty() {
        return Ok(None);
    }
    let list = |ids: &mut dyn Iterator<Item = i64>| {
        ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    };
    let filter = format!(
        "labels in {} && project in {}",
        list(&mut labels.iter().take(50).map(|l| l.id)),
        list(&mut synced.iter().map(|p| p.id))
    );
    api.first_task(&filter).await
}

/// The target's host resolves to a loopback, private or link-local address.
async fn private_target(target: &str) -> bool {
    let Some(addr) = host_port(target) else {
        return false;
    };
    match tokio::net::lookup_host(addr).await {
        Ok(addrs) => addrs.into_iter().any(|a| private(a.ip())),
        Err(_) => false,
    }
}

fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 || v6.is_unicast_link_local()
        }
    }
}

/// Something accepts a TCP connection at the target's host and port.
async fn listens(target: &str) -> bool {
    let Some(addr) = host_port(target) else {
        return false;
    };
    tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
        .await
        .is_ok_and(|c| c.is_ok())
}

/// `host:port` of an http(s) URL (the scheme's port when none is given).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    if has_port {
        return Some(authority.to_string());
    }
    let port = if scheme == "https" { 443 } else { 80 };
    Some(format!("{authority}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_of_a_webhook_url() {
        assert_eq!(
            host_port("https://sync.example.org/webhook").as_deref(),
            Some("sync.example.org:443")
        );
        assert_eq!(
            host_port("http://127.0.0.1:8471/webhook").as_deref(),
            Some("127.0.0.1:8471")
        );
        assert_eq!(
            host_port("http://[::1]:8471/w").as_deref(),
            Some("[::1]:8471")
        );
        assert_eq!(host_port("http://[::1]/w").as_deref(), Some("[::1]:80"));
    }

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.5",
            "172.16.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!private(ip.parse().expect("ip")), "{ip}");
        }
    }
}
