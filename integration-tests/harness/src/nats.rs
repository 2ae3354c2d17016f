use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use vsync_bus_auth::{IdentityStore, Role};

/// A real `nats-server` with JetStream on a free loopback port and a temporary store, with
/// authorization on as in production: NKey users with the permissions of their roles
/// (vsync-bus-auth), nothing anonymous. [`NatsServer::credentials`] hands out an identity's
/// seed file (a host's is added to the server's users on first use). Killed (and its store
/// removed) on drop.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    /// The monitoring endpoint's port (`-m -1`: the server picks it).
    monitor_port: u16,
    store: Store,
    bin: PathBuf,
    /// The identities' seeds and the server's config file.
    auth: tempfile::TempDir,
    /// "Reloaded" notices from the server's log, one per configuration reload.
    reloaded: Mutex<Option<mpsc::Receiver<()>>>,
}

enum Store {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Store {
    fn path(&self) -> &std::path::Path {
        match self {
            Store::Temp(t) => t.path(),
            Store::Kept(p) => p,
        }
    }
}

const HINT: &str = "nats-server not found: install it (Debian: `apt-get install nats-server`, \
                    Nix: `nix develop`) or set NATS_SERVER_BIN";

impl NatsServer {
    /// Starts a server on a port the server picks itself (`-p -1`: no free-port race).
    pub fn start() -> NatsServer {
        let store = Store::Temp(tempfile::tempdir().expect("temp dir for the JetStream store"));
        Self::try_start(store).expect(HINT)
    }

    /// Starts a server that keeps its JetStream data in `store_dir` (the embedded bus of
    /// `vikunja-sync up`).
    pub fn start_with_store(store_dir: &std::path::Path) -> std::io::Result<NatsServer> {
        std::fs::create_dir_all(store_dir)?;
        Self::try_start(Store::Kept(store_dir.to_path_buf()))
    }

    fn try_start(store: Store) -> std::io::Result<NatsServer> {
        let bin = crate::find_program("nats-server", "NATS_SERVER_BIN", &["/usr/sbin", "/usr/bin"])
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, HINT))?;
        let mut s = NatsServer {
            child: None,
            port: 0,
            monitor_port: 0,
            store,
            bin,
            auth: tempfile::tempdir()?,
            reloaded: Mutex::new(None),
        };
        s.identities()
            .ensure(&Role::Server)
            .map_err(std::io::Error::other)?;
        s.identities()
            .ensure(&Role::Operator)
            .map_err(std::io::Error::other)?;
        s.write_config()?;
        s.spawn("-1")?;
        Ok(s)
    }

    fn identities(&self) -> IdentityStore {
        IdentityStore::new(self.auth.path().join("identities"))
    }

    fn config_path(&self) -> PathBuf {
        self.auth.path().join("nats.conf")
    }

    /// The server's config: JetStream and its store (in the file, not as flags: a reload
    /// would turn JetStream off otherwise) and the users of every identity made so far;
    /// address and port come from the command line.
    fn write_config(&self) -> std::io::Result<()> {
        let ids = self
            .identities()
            .identities()
            .map_err(std::io::Error::other)?;
        let store = serde_json::to_string(&self.store.path().display().to_string())?;
        let text = format!(
            "jetstream {{\n  store_dir: {store}\n}}\n{}",
            vsync_bus_auth::server_config_fragment(&ids)
        );
        vsync_bus_auth::write_private(&self.config_path(), text.as_bytes())
    }

    /// The seed file of `role`'s identity. A host new to this server is added to its users
    /// first (its config is rewritten and reloaded).
    pub fn credentials(&self, role: &Role) -> PathBuf {
        let ids = self.identities();
        let known = ids.path(role).exists();
        let path = ids.ensure(role).expect("make a bus identity");
        if !known {
            self.write_config().expect("write nats-server's config");
            self.reload();
        }
        path
    }

    /// The server identity's seed file (webhook-ingress, reconciler, label-sync).
    pub fn server_credentials(&self) -> PathBuf {
        self.credentials(&Role::Server)
    }

    /// Host `host`'s seed file (its tw-watcher).
    pub fn host_credentials(&self, host: &str) -> PathBuf {
        self.credentials(&Role::Host(host.to_string()))
    }

    /// The NKey seed of `role`'s identity, for a raw client (`ConnectOptions::with_nkey`).
    pub fn seed(&self, role: &Role) -> String {
        match vsync_bus_auth::Credentials::load(&self.credentials(role)) {
            Ok(vsync_bus_auth::Credentials::Seed(s)) => s,
            other => panic!("the harness's identities are seed files: {other:?}"),
        }
    }

    /// The operator CLI's seed file.
    pub fn operator_credentials(&self) -> PathBuf {
        self.credentials(&Role::Operator)
    }

    /// Makes the running server read its config again (SIGHUP) and waits until it has.
    fn reload(&self) {
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return; // stopped: the next start reads the new config
        };
        let guard = self.reloaded.lock().unwrap_or_else(|e| e.into_inner());
        let status = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -HUP nats-server: {status}");
        if let Some(rx) = guard.as_ref() {
            rx.recv_timeout(Duration::from_secs(10))
                .expect("nats-server did not reload its configuration within 10 s");
        }
    }

    fn spawn(&mut self, port: &str) -> std::io::Result<()> {
        let mut child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.config_path())
            .args(["-a", "127.0.0.1", "-p", port, "-m", "-1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let Some(stderr) = child.stderr.take() else {
            return Err(std::io::Error::other("nats-server stderr not captured"));
        };
        let (tx, rx) = mpsc::channel();
        let (monitor_tx, monitor) = mpsc::channel();
        let (reloaded_tx, reloaded) = mpsc::channel();
        // Keep reading the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Reloaded server configuration") {
                    let _ = reloaded_tx.send(());
                }
                if let Some(addr) = line.split("Starting http monitor on ").nth(1)
                    && let Some(port) = addr.trim().rsplit(':').next()
                {
                    let _ = monitor_tx.send(port.parse::<u16>().unwrap_or(0));
                }
                if let Some(addr) = line.split("Listening for client connections on ").nth(1)
                    && let Some(port) = addr
                        .trim()
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse::<u16>().ok())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(port);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(port) => {
                self.port = port;
                // Logged before the client port.
                self.monitor_port = monitor.try_recv().unwrap_or(0);
                self.child = Some(child);
                *self.reloaded.lock().unwrap_or_else(|e| e.into_inner()) = Some(reloaded);
                Ok(())
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other(
                    "nats-server did not report its port within 10 s",
                ))
            }
        }
    }

    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's monitoring endpoint (`/connz`, `/varz`): what each connection sent and
    /// received, for the benchmarks.
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (a bus outage); [`NatsServer::restart`] brings it back with its data.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        self.spawn(&port).expect("restart nats-server");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the nats-server at `addr` (`host:port`) answers a client that sends no credentials
/// and a PING: `PONG` when it lets anyone in, `-ERR 'Authorization Violation'` when not.
pub async fn anonymous_answer(addr: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let _info = lines.next_line().await?;
    write
        .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .await?;
    Ok(lines.next_line().await?.unwrap_or_default())
}
