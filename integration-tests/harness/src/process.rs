use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A service binary run as systemd would: `NOTIFY_SOCKET` set, so the test knows when it is
/// ready (`READY=1`), and stopped with SIGTERM.
pub struct ServiceProcess {
    child: Child,
    _dir: tempfile::TempDir,
}

impl ServiceProcess {
    /// Starts `bin --config <config>` and waits (up to `timeout`) for `READY=1`.
    pub fn start(bin: &Path, config: &Path, timeout: Duration) -> ServiceProcess {
        Self::start_with_env(bin, config, &[], timeout)
    }

    /// [`ServiceProcess::start`] with extra environment variables.
    pub fn start_with_env(
        bin: &Path,
        config: &Path,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> ServiceProcess {
        let config = config.as_os_str().to_string_lossy().into_owned();
        Self::start_args(bin, &["--config", &config], env, timeout)
    }

    /// Starts `bin <args>` with extra environment variables and waits for `READY=1`.
    pub fn start_args(
        bin: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> ServiceProcess {
        let dir = tempfile::tempdir().expect("temp dir for the notify socket");
        let sock_path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&sock_path).expect("bind notify socket");
        sock.set_read_timeout(Some(timeout))
            .expect("socket timeout");
        let child = Command::new(bin)
            .args(args)
            .env("NOTIFY_SOCKET", &sock_path)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut buf = [0u8; 256];
        let deadline = Instant::now() + timeout;
        loop {
            let n = sock.recv(&mut buf).unwrap_or_else(|e| {
                panic!("{} sent no READY=1 within {timeout:?}: {e}", bin.display())
            });
            if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready",
                bin.display()
            );
        }
        ServiceProcess { child, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (up to `timeout`) for the process to exit.
    pub fn terminate(mut self, timeout: Duration) -> ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -TERM failed");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the service") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the service did not stop within {timeout:?} of SIGTERM");
            }
            // Polling the exit status: there is no portable blocking wait with a deadline.
            std::thread::park_timeout(Duration::from_millis(10));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
