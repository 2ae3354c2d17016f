//! Crashes for the fault suite: a service of a [`ProcSystem`] killed with SIGKILL (no drain,
//! nothing acknowledged, as a power cut or the OOM killer would) and started again, and a TCP
//! relay between a service and nats-server whose answers a test can hold back (to kill the
//! service after the server stored what it published and before it heard so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vsync_harness::ServiceProcess;

use crate::procs::{ProcSystem, bin};

/// Sends SIGKILL to process `pid`.
pub fn kill9(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -KILL {pid} failed");
}

impl ProcSystem {
    /// The process id of service `name` (`reconciler`, `tw-watcher@laptop`, …).
    pub fn pid(&self, name: &str) -> u32 {
        self.procs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.pid())
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// Waits (up to 10 s) until service `name`'s process is gone.
    pub async fn wait_gone(&self, name: &str) {
        let proc_dir = format!("/proc/{}/stat", self.pid(name));
        vsync_harness::wait_for(
            "the killed service to go",
            Duration::from_secs(10),
            move || {
                // A zombie (state Z) is gone too: only the harness reaps it.
                let stat = std::fs::read_to_string(&proc_dir).unwrap_or_default();
                (stat.is_empty() || stat.contains(") Z ")).then_some(())
            },
        )
        .await;
    }

    /// Starts service `name` again with its config and extra environment (a still running one
    /// is killed first), and waits until it is ready.
    pub fn restart(&mut self, name: &str, env: &[(&str, &str)]) {
        let (program, config) = match name.strip_prefix("tw-watcher@") {
            Some(host) => ("tw-watcher", self.temp_dir().join(format!("{host}.toml"))),
            None => (name, self.temp_dir().join("server.toml")),
        };
        self.procs.retain(|(n, _)| n != name); // dropped: SIGKILL and reaped
        let p =
            ServiceProcess::start_with_env(&bin(program), &config, env, Duration::from_secs(30));
        self.procs.push((name.to_string(), p));
    }
}

/// A TCP relay to a nats-server on this machine that can hold back what the server sends.
pub struct NatsRelay {
    port: u16,
    hold: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl NatsRelay {
    /// Relays 127.0.0.1:<a free port> to 127.0.0.1:`upstream`.
    pub async fn start(upstream: u16) -> NatsRelay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let hold = Arc::new(AtomicBool::new(false));
        let held = hold.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, None));
                tokio::spawn(pipe(sr, cw, Some(held.clone())));
            }
        });
        NatsRelay { port, hold, task }
    }

    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// From now on, what the server sends (acknowledgements, replies) waits in the relay.
    pub fn hold_answers(&self) {
        self.hold.store(true, Ordering::SeqCst);
    }

    /// Sends what was held and relays again.
    pub fn release(&self) {
        self.hold.store(false, Ordering::SeqCst);
    }
}

impl Drop for NatsRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to` until either closes; while `hold` is set, what was read waits.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    hold: Option<Arc<AtomicBool>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while hold.as_ref().is_some_and(|h| h.load(Ordering::SeqCst)) {
            // Polling a switch the test flips; there is nothing else to wait on.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
