//! What makes a parsed config usable: values of the right type that cannot work are refused
//! here, once, for every service and for `vikunja-sync config check` (which the NixOS module
//! runs at build time). Nothing is read or connected to: secret files are only paths.

use std::time::Duration;

use crate::{Config, ConfigError};

impl Config {
    /// Checks every value a service would use, whichever service reads this config (a unit's
    /// config holds only the sections its service needs, so nothing is required here).
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.bus.url {
            nats_url("bus.url", url)?;
        }
        if !(1..=5).contains(&self.bus.replicas) {
            return invalid(
                "bus.replicas",
                format!("{} (JetStream keeps 1 to 5 replicas)", self.bus.replicas),
            );
        }
        for (key, mib) in [
            ("bus.events_max_mib", self.bus.events_max_mib),
            ("bus.dead_letters_max_mib", self.bus.dead_letters_max_mib),
        ] {
            if !(1..=1 << 20).contains(&mib) {
                return invalid(key, format!("{mib} (1 MiB to 1 TiB)"));
            }
        }
        let v = &self.vikunja;
        if let Some(url) = &v.url {
            http_url("vikunja.url", url)?;
        }
        if let Some(url) = &v.webhook_url {
            http_url("vikunja.webhook_url", url)?;
        }
        if v.default_project.trim().is_empty() {
            return invalid("vikunja.default_project", "empty (name a Vikunja project)");
        }
        if v.projects.iter().any(|p| p.trim().is_empty()) {
            return invalid("vikunja.projects", "an empty project title");
        }
        positive("vikunja.timeout", v.timeout)?;
        if self.ingress.max_body_bytes == 0 {
            return invalid("ingress.max_body_bytes", "0 (no webhook would fit)");
        }
        if self.taskwarrior.host.as_deref().is_some_and(blank) {
            return invalid("taskwarrior.host", "empty (leave it out for the hostname)");
        }
        if self.taskwarrior.filter.as_deref().is_some_and(blank) {
            return invalid(
                "taskwarrior.filter",
                "empty (leave it out to sync every task)",
            );
        }
        let t = &self.telemetry;
        if let Some(endpoint) = &t.otlp_endpoint {
            http_url("telemetry.otlp_endpoint", endpoint)?;
        }
        if let Some(f) = t
            .log_format
            .as_deref()
            .filter(|f| !matches!(*f, "text" | "json"))
        {
            return invalid(
                "telemetry.log_format",
                format!("`{f}` (use \"text\" or \"json\")"),
            );
        }
        let r = &self.reconcile;
        positive("reconcile.interval", r.interval)?;
        positive("reconcile.full_interval", r.full_interval)?;
        positive("reconcile.host_timeout", r.host_timeout)?;
        if r.concurrency == 0 {
            return invalid(
                "reconcile.concurrency",
                "0 (at least one project at a time)",
            );
        }
        if self.labels.tw_only_prefix.as_deref().is_some_and(blank) {
            return invalid(
                "labels.tw_only_prefix",
                "empty (it would keep every tag in Taskwarrior only)",
            );
        }
        Ok(())
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key,
        reason: reason.into(),
    })
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn positive(key: &'static str, d: Duration) -> Result<(), ConfigError> {
    if d.is_zero() {
        return invalid(key, "0 (give a duration such as \"30s\")");
    }
    Ok(())
}

/// `scheme://host[:port][/path]` with one of `schemes`; returns the part after `://`.
fn url_with<'a>(key: &'static str, url: &'a str, schemes: &[&str]) -> Result<&'a str, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        key,
        reason: format!("`{url}` {why}"),
    };
    if url.chars().any(char::is_whitespace) {
        return Err(bad("contains white space"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad(&format!(
            "has no scheme (start it with {}://)",
            schemes[0]
        )));
    };
    if !schemes.contains(&scheme) {
        return Err(bad(&format!(
            "must start with {}",
            schemes.join("://, ") + "://"
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(bad("has no host"));
    }
    if let Some(port) = port_of(host)
        && port.parse::<u16>().is_err()
    {
        return Err(bad(&format!("has an invalid port `{port}`")));
    }
    Ok(rest)
}

/// The port of `host:port` or `[v6]:port`, if one is given.
fn port_of(host: &str) -> Option<&str> {
    match host.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host.rsplit_once(':').map(|(_, p)| p),
    }
}

fn http_url(key: &'static str, url: &str) -> Result<(), ConfigError> {
    url_with(key, url, &["https", "http"]).map(|_| ())
}

/// A NATS server URL, or several separated by commas (as the NATS client takes them); a bare
/// `host:port` is read as `nats://host:port`.
fn nats_url(key: &'static str, urls: &str) -> Result<(), ConfigError> {
    if blank(urls) {
        return invalid(
            key,
            "empty (leave it out to let `vikunja-sync up` start nats-server)",
        );
    }
    for url in urls.split(',').map(str::trim) {
        let url = if url.contains("://") {
            url.to_string()
        } else {
            format!("nats://{url}")
        };
        url_with(key, &url, &["nats", "tls", "ws", "wss"])?;
    }
    Ok(())
}
