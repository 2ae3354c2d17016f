//! The service processes `up` runs: started with the same config, each told where to send
//! `READY=1` (its own `$NOTIFY_SOCKET`), watched for exits, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use rustix::process::{Pid, Signal, kill_process};
use tokio::net::UnixDatagram;
use tokio::process::Command;
use tokio::task::JoinSet;

/// How long a service may take to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One started service.
struct Child {
    name: String,
    pid: Option<Pid>,
    /// Where it announces `READY=1` (and later `STOPPING=1`); kept open until it exits.
    notify: UnixDatagram,
    /// The write end of its stdin, never written: when this process ends, however it ends, the
    /// kernel closes it and the service stops (`vsync_lifecycle::supervisor_gone`).
    _lifeline: Option<tokio::process::ChildStdin>,
}

/// The running services, each its own process.
pub struct Children {
    children: Vec<Child>,
    exits: JoinSet<(String, std::io::Result<ExitStatus>)>,
    /// Holds the notify sockets.
    _dir: tempfile::TempDir,
}

/// How the services reach the bus: its URL and, for `up`'s own bus, the identity each runs
/// with (else the config's `[bus] credentials_file`).
pub struct BusAccess {
    url: String,
    local: Option<crate::bus_identities::LocalIdentities>,
}

impl BusAccess {
    pub fn configured(url: &str) -> BusAccess {
        BusAccess {
            url: url.to_string(),
            local: None,
        }
    }

    pub fn local(url: &str, ids: crate::bus_identities::LocalIdentities) -> BusAccess {
        BusAccess {
            url: url.to_string(),
            local: Some(ids),
        }
    }

    /// The seed file service `name` connects with on `up`'s own bus.
    fn credentials(&self, name: &str) -> Option<&Path> {
        let ids = self.local.as_ref()?;
        match name {
            "tw-watcher" => ids.host.as_deref(),
            _ => Some(&ids.server),
        }
    }
}

impl Children {
    /// Starts `names` (programs found next to this one or on PATH), each with `--config
    /// <config>` when given, the bus URL in `VIKUNJA_SYNC_BUS_URL` and, on `up`'s own bus,
    /// its identity in `VIKUNJA_SYNC_BUS_CREDENTIALS_FILE`.
    pub fn start(
        names: &[&str],
        config: Option<&Path>,
        bus: &BusAccess,
    ) -> anyhow::Result<Children> {
        let dir = tempfile::Builder::new()
            .prefix("vikunja-sync-up-")
            .tempdir()
            .context("cannot create a directory for the notify sockets")?;
        let mut out = Children {
            children: Vec::new(),
            exits: JoinSet::new(),
            _dir: dir,
        };
        for name in names {
            out.spawn(name, config, bus)?;
        }
        Ok(out)
    }

    fn spawn(&mut self, name: &str, config: Option<&Path>, bus: &BusAccess) -> anyhow::Result<()> {
        let bin = program(name)?;
        let socket = self._dir.path().join(format!("{name}.sock"));
        let notify = UnixDatagram::bind(&socket)
            .with_context(|| format!("cannot bind {}", socket.display()))?;
        let mut cmd = Command::new(&bin);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        if let Some(creds) = bus.credentials(name) {
            cmd.env("VIKUNJA_SYNC_BUS_CREDENTIALS_FILE", creds);
        }
        let mut child = cmd
            .env("VIKUNJA_SYNC_BUS_URL", &bus.url)
            .env("NOTIFY_SOCKET", &socket)
            .env(vsync_lifecycle::STOP_ON_STDIN_EOF_ENV, "1")
            .stdin(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().and_then(|p| Pid::from_raw(p as i32));
        let lifeline = child.stdin.take();
        let owned = name.to_string();
        self.exits.spawn(async move { (owned, child.wait().await) });
        self.children.push(Child {
            name: name.to_string(),
            pid,
            notify,
            _lifeline: lifeline,
        });
        Ok(())
    }

    /// Waits until every service announced `READY=1`; fails when one exits first or takes
    /// longer than a minute.
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let Children {
            children, exits, ..
        } = self;
        let all = futures::future::try_join_all(children.iter().map(announced_ready));
        let waited = tokio::time::timeout(START_TIMEOUT, async {
            tokio::select! {
                r = all => r.map(|_| ()),
                Some(exit) = exits.join_next() => Err(exited(exit)),
            }
        });
        waited
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("not ready within {START_TIMEOUT:?}")))
    }

    /// Resolves when a service exits (which it should not before [`Children::stop`]).
    pub async fn any_exited(&mut self) -> anyhow::Error {
        match self.exits.join_next().await {
            Some(exit) => exited(exit),
            None => std::future::pending().await,
        }
    }

    /// SIGTERM to every service, then waits up to `grace` for them to exit (they drain their
    /// work first) and kills what is left. Reports the first that did not exit cleanly.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        for c in &self.children {
            if let Some(pid) = c.pid {
                // Fails only for a process that is gone already.
                let _ = kill_process(pid, Signal::TERM);
            }
        }
        let mut first_err = None;
        let all = async {
            while let Some(exit) = self.exits.join_next().await {
                let (name, status) = flatten(exit);
                if let Err(e) = status.and_then(|s| {
                    s.success()
                        .then_some(())
                        .with_context(|| format!("exited with {s}"))
                }) && first_err.is_none()
                {
                    first_err = Some(e.context(name));
                }
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            // Dropping the wait tasks drops their processes, which kills them.
            self.exits.abort_all();
            anyhow::bail!("services still running {grace:?} after SIGTERM were killed");
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Waits for `READY=1` on the service's notify socket.
async fn announced_ready(c: &Child) -> anyhow::Result<()> {
    let mut buf = [0u8; 256];
    loop {
        let n = c
            .notify
            .recv(&mut buf)
            .await
            .with_context(|| format!("{}: notify socket", c.name))?;
        if String::from_utf8_lossy(&buf[..n])
            .lines()
            .any(|l| l == "READY=1")
        {
            tracing::info!(service = %c.name, "ready");
            return Ok(());
        }
    }
}

fn flatten(
    exit: Result<(String, std::io::Result<ExitStatus>), tokio::task::JoinError>,
) -> (String, anyhow::Result<ExitStatus>) {
    match exit {
        Ok((name, status)) => (name, status.context("waiting for the process")),
        Err(e) => ("?".into(), Err(anyhow::anyhow!("wait task failed: {e}"))),
    }
}

fn exited(
    exit: Result<(String, std::io::Result<ExitStatus>), tokio::task::JoinError>,
) -> anyhow::Error {
    match flatten(exit) {
        (name, Ok(status)) => anyhow::anyhow!("{name} exited ({status})"),
        (name, Err(e)) => e.context(name),
    }
}

fn program(name: &str) -> anyhow::Result<PathBuf> {
    crate::programs::find(name, None, &[]).with_context(|| {
        format!(
            "cannot find the {name} program next to vikunja-sync or on PATH \
             (`cargo build --release --workspace` builds it)"
        )
    })
}
