//! The operator contract (docs/ARCHITECTURE.md §2): every service reads one TOML file with the
//! sections `[bus]`, `[vikunja]`, `[ingress]`, `[taskwarrior]`, `[telemetry]`, `[metrics]`,
//! `[reconcile]`, `[labels]`, `[adopt]`; any key can be overridden by
//! `VIKUNJA_SYNC_<SECTION>_<KEY>`. Secrets are never values, only paths to files, read by
//! [`read_secret`]. Taskwarrior's own files are found the way `task` finds them ([`paths`]).

mod duration;
pub mod paths;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "VIKUNJA_SYNC_";
const SECTIONS: &[&str] = &[
    "bus",
    "vikunja",
    "ingress",
    "taskwarrior",
    "telemetry",
    "metrics",
    "reconcile",
    "labels",
    "adopt",
];

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid value in {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("missing setting `{0}`")]
    Missing(&'static str),
    /// A value of the right type that cannot work (a URL without a scheme, a zero interval).
    #[error("invalid setting `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("cannot read secret file {path}: {reason}")]
    Secret { path: PathBuf, reason: String },
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub bus: Bus,
    pub vikunja: Vikunja,
    pub ingress: Ingress,
    pub taskwarrior: Taskwarrior,
    pub telemetry: Telemetry,
    pub metrics: Metrics,
    pub reconcile: Reconcile,
    pub labels: Labels,
    pub adopt: Adopt,
}

/// `[adopt]`: first adoption of tasks both sides already hold.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Adopt {
    /// Adopt by itself at first start; `false`: nothing that existed before is synced until
    /// `vikunja-sync adopt` runs.
    pub auto: bool,
    /// Completed and deleted tasks that ended longer ago than this are not carried over.
    #[serde(with = "duration")]
    pub history: Duration,
}

impl Default for Adopt {
    fn default() -> Self {
        Adopt {
            auto: true,
            history: Duration::from_secs(30 * 86400),
        }
    }
}

/// `[labels]`: how Taskwarrior tags and Vikunja labels map. Plain settings; the model's
/// `TagMap` is built from them.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Labels {
    /// Lower-case every label title as a tag.
    pub lowercase: bool,
    /// Tags that are never synced.
    pub exclude: Vec<String>,
    /// Tags starting with this prefix stay in Taskwarrior only.
    pub tw_only_prefix: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bus {
    /// `None`: `vikunja-sync up` starts a local nats-server.
    pub url: Option<String>,
    /// This client's identity: a `.creds` file or a bare NKey seed file.
    pub credentials_file: Option<PathBuf>,
    pub replicas: usize,
    /// Most the event stream may hold (MiB): a full stream refuses new events (the webhook is
    /// answered 5xx and retried, a host keeps its change) rather than dropping any or filling
    /// the store the canonical state is written to.
    pub events_max_mib: u64,
    /// Most the dead-letter stream may hold (MiB); a full one keeps the dead letter unwritten
    /// (its event stays unacknowledged) rather than dropping older ones.
    pub dead_letters_max_mib: u64,
    /// CA certificate(s) (PEM) to verify a TLS bus with; setting it requires TLS.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for a bus that verifies clients (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub tls_key: Option<PathBuf>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            url: None,
            credentials_file: None,
            replicas: 1,
            events_max_mib: 1024,
            dead_letters_max_mib: 256,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Vikunja {
    pub url: Option<String>,
    pub token_file: Option<PathBuf>,
    pub webhook_secret_file: Option<PathBuf>,
    /// Where Vikunja reaches webhook-ingress; webhooks are registered only when set.
    pub webhook_url: Option<String>,
    /// The Vikunja project for Taskwarrior tasks without a project.
    pub default_project: String,
    /// Top-level project titles to sync; empty = all.
    pub projects: Vec<String>,
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for Vikunja {
    fn default() -> Self {
        Vikunja {
            url: None,
            token_file: None,
            webhook_secret_file: None,
            webhook_url: None,
            default_project: "Inbox".into(),
            projects: Vec::new(),
            timeout: Duration::from_secs(15),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ingress {
    /// `POST /webhook` and `GET /healthz`.
    pub listen: SocketAddr,
    /// `GET /metrics` (and `/healthz`), apart from the webhook listener.
    pub metrics_listen: SocketAddr,
    pub max_body_bytes: usize,
    /// A signed webhook whose `time` is older than this is refused (a replay).
    #[serde(with = "duration")]
    pub max_age: Duration,
}

impl Default for Ingress {
    fn default() -> Self {
        Ingress {
            listen: SocketAddr::from(([127, 0, 0, 1], 8471)),
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 9470)),
            max_body_bytes: 1 << 20,
            max_age: Duration::from_secs(5 * 60),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Taskwarrior {
    /// Host id on the bus; default: this machine's hostname.
    pub host: Option<String>,
    pub taskrc: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub task_bin: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// Taskwarrior 3: apply changes in-process through taskchampion where that is provably the
    /// same as `task import` (default); `false` always runs `task import`.
    pub in_process: Option<bool>,
    /// A Taskwarrior filter (e.g. `project:Work or +vikunja`): the tasks this host syncs.
    pub filter: Option<String>,
}

impl Taskwarrior {
    pub fn host(&self) -> String {
        self.host.clone().unwrap_or_else(hostname)
    }
    /// The data directory: as set, else where `task` finds it ([`paths`]).
    pub fn data(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| paths::TaskEnv::current().data(&self.taskrc()))
    }
    /// The taskrc: as set, else the one `task` reads ([`paths`]).
    pub fn taskrc(&self) -> PathBuf {
        self.taskrc
            .clone()
            .unwrap_or_else(|| paths::TaskEnv::current().taskrc())
    }
    /// The hooks directory `task` runs: the taskrc's `hooks.location`, else `<data>/hooks`.
    pub fn hooks(&self) -> PathBuf {
        paths::TaskEnv::current().hooks(&self.taskrc(), &self.data())
    }
    pub fn task_bin(&self) -> PathBuf {
        self.task_bin
            .clone()
            .unwrap_or_else(|| PathBuf::from("task"))
    }
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.data().join(".vikunja-sync"))
    }
    pub fn in_process(&self) -> bool {
        self.in_process.unwrap_or(true)
    }
    pub fn socket(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(|| self.data().join(".vikunja-sync/watcher.sock"))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Telemetry {
    /// OTLP/gRPC endpoint; `None`: no exporter at all.
    pub otlp_endpoint: Option<String>,
    pub service_name: Option<String>,
    /// "text" (default) or "json".
    pub log_format: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Metrics {
    /// `/metrics` and `/healthz` for services that serve no HTTP of their own.
    pub listen: Option<SocketAddr>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reconcile {
    #[serde(with = "duration")]
    pub interval: Duration,
    #[serde(with = "duration")]
    pub full_interval: Duration,
    pub concurrency: usize,
    /// A host not seen for this long is skipped by reconcile and adoption rather than awaited.
    #[serde(with = "duration")]
    pub host_timeout: Duration,
}

impl Default for Reconcile {
    fn default() -> Self {
        Reconcile {
            interval: Duration::from_secs(60),
            full_interval: Duration::from_secs(15 * 60),
            concurrency: 4,
            host_timeout: Duration::from_secs(5 * 60),
        }
    }
}

impl Config {
    /// Reads `path` (if given) and applies the process environment's overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_path_buf(),
                source,
            })?,
            None => String::new(),
        };
        Self::parse(&text, std::env::vars())
    }

    /// Parses TOML text, then applies `VIKUNJA_SYNC_<SECTION>_<KEY>` overrides from `env`, and
    /// checks every value (see [`Config::check`]).
    pub fn parse(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text)?;
        for (var, value) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = SECTIONS.iter().find_map(|s| {
                rest.strip_prefix(s)
                    .and_then(|k| k.strip_prefix('_'))
                    .map(|k| (*s, k))
            }) else {
                continue; // not a config key (e.g. the hook's VIKUNJA_SYNC_SOCKET)
            };
            let section = table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(Default::default()));
            let Some(section) = section.as_table_mut() else {
                return Err(ConfigError::Env {
                    var,
                    reason: "section is not a table".into(),
                });
            };
            section.insert(key.to_string(), env_value(&value));
        }
        let cfg = Config::deserialize(table)?;
        cfg.check()?;
        Ok(cfg)
    }

    /// The Vikunja API base URL (`<url>/api/v1`).
    pub fn vikunja_api(&self) -> Result<String, ConfigError> {
        let url = self
            .vikunja
            .url
            .as_deref()
            .ok_or(ConfigError::Missing("vikunja.url"))?;
        Ok(format!("{}/api/v1", url.trim_end_matches('/')))
    }

    /// The secret Vikunja signs webhooks with, when `vikunja.webhook_secret_file` is set.
    pub fn webhook_secret(&self) -> Result<Option<SecretString>, ConfigError> {
        self.vikunja
            .webhook_secret_file
            .as_deref()
            .map(read_secret)
            .transpose()
    }
}

/// An environment value as TOML: numbers, booleans and arrays when they parse, else a string.
fn env_value(v: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {v}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(v.to_string()))
}

/// Reads a secret from a file (trailing newline removed). The error names the file, never the
/// content.
pub fn read_secret(path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Secret {
        path: path.to_path_buf(),
        reason: e.kind().to_string(),
    })?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.is_empty() {
        return Err(ConfigError::Secret {
            path: path.to_path_buf(),
            reason: "file is empty".into(),
        });
    }
    Ok(SecretString::from(text.to_string()))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests;
