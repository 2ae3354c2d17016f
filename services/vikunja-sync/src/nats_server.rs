//! The local nats-server `vikunja-sync up` runs when no bus URL is configured: JetStream on,
//! its data under the state directory, listening on a loopback port it picks itself, and only
//! for the identities it is given (NKey users with their roles' permissions; nothing
//! anonymous).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use rustix::process::{Pid, Signal, kill_process};
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

/// How long the server may take to listen (JetStream recovers its streams first).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

const HINT: &str = "nats-server not found: install it (Debian: `apt-get install nats-server`, \
                    Nix: it is on the package's PATH) or set NATS_SERVER_BIN, or configure `bus.url`";

/// A running nats-server; [`LocalNatsServer::stop`] ends it cleanly (it is killed if dropped).
pub struct LocalNatsServer {
    child: Child,
    url: String,
}

impl LocalNatsServer {
    /// Starts nats-server with the config `<state_dir>/nats.conf` (written here, with a user
    /// for each of `identities`), JetStream data in `<state_dir>/nats`, and waits until it
    /// accepts clients.
    pub async fn start(
        state_dir: &Path,
        identities: &[vsync_bus_auth::Identity],
    ) -> anyhow::Result<LocalNatsServer> {
        anyhow::ensure!(
            !identities.is_empty(),
            "a local bus needs at least one identity: nothing anonymous is accepted"
        );
        let bin = crate::programs::find(
            "nats-server",
            Some("NATS_SERVER_BIN"),
            &["/usr/sbin", "/usr/bin"],
        )
        .context(HINT)?;
        let store = state_dir.join("nats");
        private_dir(&store)?;
        let conf = state_dir.join("nats.conf");
        stop_leftover(&state_dir.join("nats.pid"), &conf).await;
        write_private(&conf, &config(&store, state_dir, identities))?;
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        forward_log(&mut child);
        let pid = child.id().context("nats-server exited at once")?;
        let url = match tokio::time::timeout(START_TIMEOUT, listening(&mut child, state_dir, pid))
            .await
        {
            Ok(r) => r?,
            Err(_) => anyhow::bail!("nats-server did not listen within {START_TIMEOUT:?}"),
        };
        Ok(LocalNatsServer { child, url })
    }

    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> &str {
        &self.url
    }

    /// SIGTERM (nats-server then closes its JetStream store cleanly), killed if it takes longer
    /// than 10 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id().and_then(|p| Pid::from_raw(p as i32)) {
            let _ = kill_process(pid, Signal::TERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                status.context("waiting for nats-server")?;
                Ok(())
            }
            Err(_) => {
                self.child.kill().await.context("killing nats-server")?;
                anyhow::bail!("nats-server did not stop within {STOP_TIMEOUT:?} of SIGTERM")
            }
        }
    }
}

/// The server's config: loopback only, a port of its choosing (written to the ports file),
/// JetStream in `store`, its pid in `<state_dir>/nats.pid`, and the users of `identities`.
fn config(store: &Path, state_dir: &Path, identities: &[vsync_bus_auth::Identity]) -> String {
    format!(
        "# written by `vikunja-sync up` on every start\n\
         host: \"127.0.0.1\"\nport: -1\n\
         jetstream {{\n  store_dir: {}\n}}\n\
         ports_file_dir: {}\npid_file: {}\n{}",
        quoted(store),
        quoted(state_dir),
        quoted(&state_dir.join("nats.pid")),
        vsync_bus_auth::server_config_fragment(identities)
    )
}

/// Stops the server an earlier `up` left running (it was killed with no chance to stop it):
/// two servers on one JetStream store would fight over it. Only a `nats-server` started with
/// our `conf`, so a reused pid is never someone else's process.
async fn stop_leftover(pid_file: &Path, conf: &Path) {
    let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .and_then(Pid::from_raw)
    else {
        return;
    };
    let cmdline =
        std::fs::read(format!("/proc/{}/cmdline", pid.as_raw_nonzero())).unwrap_or_default();
    let ours = cmdline
        .split(|b| *b == 0)
        .any(|arg| arg == conf.as_os_str().as_encoded_bytes());
    if !ours {
        return;
    }
    tracing::warn!(
        pid = pid.as_raw_nonzero(),
        "stopping the nats-server an earlier `up` left running"
    );
    let _ = kill_process(pid, Signal::TERM);
    let gone = async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        // Not our child: no exit status to wait on, only /proc to look at.
        while running(pid) {
            tick.tick().await;
        }
    };
    if tokio::time::timeout(STOP_TIMEOUT, gone).await.is_err() {
        let _ = kill_process(pid, Signal::KILL);
    }
}

/// Whether `pid` is a live process (not gone, not a zombie waiting for its parent).
fn running(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero()))
        .ok()
        .and_then(|stat| {
            let state = stat[stat.rfind(')')? + 1..].split_whitespace().next()?;
            Some(state != "Z")
        })
        .unwrap_or(false)
}

fn quoted(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Waits for the ports file nats-server writes once it accepts clients
/// (`<program>_<pid>.ports`, JSON with the client URLs); fails if the server exits first.
async fn listening(child: &mut Child, dir: &Path, pid: u32) -> anyhow::Result<String> {
    let suffix = format!("_{pid}.ports");
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tick.tick().await;
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("nats-server exited ({status}) before it listened");
        }
        let Some(file) = ports_file(dir, &suffix) else {
            continue;
        };
        // Written once the listeners run; a half-written file parses on the next tick.
        if let Some(url) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| client_url(&text))
        {
            return Ok(url);
        }
    }
}

fn ports_file(dir: &Path, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(suffix))
        })
}

/// The first client URL of a ports file: `{"nats":["nats://127.0.0.1:4222"],...}`.
fn client_url(ports_json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(ports_json).ok()?;
    v.get("nats")?
        .as_array()?
        .first()?
        .as_str()
        .map(str::to_owned)
}

/// nats-server's log lines into ours (it logs to stderr): its warnings and errors as such, the
/// rest at debug level.
fn forward_log(child: &mut Child) {
    let Some(stderr) = child.stderr.take() else {
        return;
    };
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("[ERR]") || line.contains("[FTL]") {
                tracing::error!(target: "nats-server", "{line}");
            } else if line.contains("[WRN]") {
                tracing::warn!(target: "nats-server", "{line}");
            } else {
                tracing::debug!(target: "nats-server", "{line}");
            }
        }
    });
}

fn private_dir(dir: &Path) -> anyhow::Result<()> {
    vsync_bus_auth::private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    vsync_bus_auth::write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn identities(dir: &Path) -> Vec<vsync_bus_auth::Identity> {
        let store = vsync_bus_auth::IdentityStore::new(dir.join("ids"));
        store.ensure(&vsync_bus_auth::Role::Server).unwrap();
        store.identities().unwrap()
    }

    #[test]
    fn config_quotes_paths_and_keeps_the_server_on_loopback() {
        let ids = [vsync_bus_auth::Identity {
            role: vsync_bus_auth::Role::Server,
            public_key: "UKEY".into(),
        }];
        let c = config(Path::new("/s/a \"b\"/nats"), Path::new("/s"), &ids);
        assert!(c.contains("\"nkey\": \"UKEY\""), "{c}");
        assert!(c.contains("host: \"127.0.0.1\"\nport: -1\n"), "{c}");
        assert!(c.contains("store_dir: \"/s/a \\\"b\\\"/nats\""), "{c}");
        assert!(c.contains("ports_file_dir: \"/s\""), "{c}");
        assert!(c.contains("pid_file: \"/s/nats.pid\""), "{c}");
    }

    #[test]
    fn the_client_url_comes_from_the_ports_file() {
        assert_eq!(
            client_url(r#"{"nats":["nats://127.0.0.1:41234"],"monitoring":[]}"#).as_deref(),
            Some("nats://127.0.0.1:41234")
        );
        assert_eq!(client_url(r#"{"nats":[]}"#), None);
        assert_eq!(client_url("{\"na"), None);
    }

    #[tokio::test]
    async fn starts_with_jetstream_in_the_state_dir_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let nats = LocalNatsServer::start(dir.path(), &identities(dir.path()))
            .await
            .unwrap();
        let addr = nats.url().trim_start_matches("nats://").to_string();
        tokio::net::TcpStream::connect(&addr).await.unwrap();
        assert!(dir.path().join("nats/jetstream").is_dir());
        let mode = std::fs::metadata(dir.path().join("nats.conf")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
        let answer = vsync_harness::anonymous_answer(&addr).await.unwrap();
        assert!(answer.contains("Authorization Violation"), "{answer}");
        nats.stop().await.unwrap();
        assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    }

    #[tokio::test]
    async fn a_server_an_earlier_up_left_running_is_stopped_first() {
        let dir = tempfile::tempdir().unwrap();
        let ids = identities(dir.path());
        let mut left = LocalNatsServer::start(dir.path(), &ids).await.unwrap();
        let left_addr = left.url().trim_start_matches("nats://").to_string();
        let now = LocalNatsServer::start(dir.path(), &ids).await.unwrap();
        // The leftover (as after a killed `up`) stopped on SIGTERM, not killed.
        let status = left.child.wait().await.unwrap();
        assert!(status.code().is_some(), "{status}");
        assert!(tokio::net::TcpStream::connect(&left_addr).await.is_err());
        let addr = now.url().trim_start_matches("nats://").to_string();
        tokio::net::TcpStream::connect(&addr).await.unwrap();
        now.stop().await.unwrap();
    }
}
