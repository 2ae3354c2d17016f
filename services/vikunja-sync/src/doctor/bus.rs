//! The bus: reachable with our credentials, its JetStream streams and buckets usable.

use std::time::Duration;

use vsync_bus::Bus;
use vsync_config::Config;

use super::Finding;

/// Returns the connection for the checks that watch the bus (the test delivery).
pub async fn check(cfg: &Config, out: &mut Vec<Finding>) -> Option<Bus> {
    let url = match crate::up::bus_url(cfg) {
        Ok(u) => u,
        Err(e) => {
            out.push(Finding::problem(
                "bus",
                format!("{e:#}"),
                "set `[bus] url` to your NATS server, or start `vikunja-sync up`, which runs \
                 its own when none is configured",
            ));
            return None;
        }
    };
    // As the operator commands connect (the test delivery's watch is among its permissions).
    let bus_cfg = crate::bus_identities::operator_bus_config(cfg, &url, "vikunja-sync doctor");
    let creds = match &bus_cfg.credentials_file {
        Some(f) => format!(" with the credentials in {}", f.display()),
        None => " without credentials".to_string(),
    };
    let connected = tokio::time::timeout(Duration::from_secs(10), Bus::connect(&bus_cfg)).await;
    let bus = match connected {
        Ok(Ok(bus)) => bus,
        Ok(Err(e)) => {
            out.push(Finding::problem(
                "bus",
                format!("cannot use the bus at {url}{creds}: {e}"),
                "check that nats-server runs with JetStream at that address and that \
                 `[bus] credentials_file` holds this machine's credentials",
            ));
            return None;
        }
        Err(_) => {
            out.push(Finding::problem(
                "bus",
                format!("no answer from the bus at {url} within 10 s"),
                "check that nats-server runs at that address and a firewall lets us through",
            ));
            return None;
        }
    };
    out.push(Finding::ok("bus", format!("{url} answers{creds}")));
    Some(bus)
}
