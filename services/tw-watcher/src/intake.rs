//! Hook intake: the Unix datagram socket the Taskwarrior hook hands its messages to.
//!
//! Protocol (docs/ARCHITECTURE.md §3): one datagram is one [`HookMessage`] as JSON; an empty
//! datagram means "the hook spooled something" (the socket refused a message, or it was too
//! big for one datagram). Nothing is answered: the hook never waits. While we do not read, the
//! kernel queue fills and the hook spools, so backpressure costs the user nothing.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::net::UnixDatagram;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use vsync_hook_wire::HookMessage;

use crate::socket_file::{remove_own_socket, remove_stale_socket};

/// Receive buffer: room for the largest datagram the hook sends, with margin to spot longer ones.
const RECV_BUFFER: usize = vsync_hook_wire::MAX_DATAGRAM + 64 * 1024;

/// What the hook told us.
#[derive(Debug, PartialEq)]
pub enum FromHook {
    /// A change, as the hook saw it.
    Message(HookMessage),
    /// The hook wrote to the spool: drain it.
    Spooled,
}

/// The bound hook socket.
#[derive(Debug)]
pub struct Intake {
    socket: UnixDatagram,
    path: PathBuf,
    /// (dev, ino) of the socket file we created, so we only ever remove our own.
    socket_id: (u64, u64),
}

impl Intake {
    /// Binds the hook socket at `path`: creates its directory (mode 0700) if missing, removes
    /// a stale socket file left by a dead watcher, and refuses (`AddrInUse`) when a live
    /// watcher still receives there. A non-socket file at the path is never removed.
    pub fn bind(path: &Path) -> io::Result<Intake> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        remove_stale_socket(path)?;
        let socket = UnixDatagram::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let meta = std::fs::symlink_metadata(path)?;
        info!(socket = %path.display(), "hook intake listening");
        Ok(Intake {
            socket,
            path: path.to_path_buf(),
            socket_id: (meta.dev(), meta.ino()),
        })
    }

    /// Receives hook datagrams until `shutdown` is cancelled, forwarding each to `tx`. On
    /// cancel it removes the socket file, then forwards what was already queued in it (or, with
    /// the receiver full or gone, spools it to `spool`, which the next start drains).
    pub async fn run(
        self,
        tx: mpsc::Sender<FromHook>,
        spool: PathBuf,
        shutdown: CancellationToken,
    ) {
        let Intake {
            socket,
            path,
            socket_id,
        } = self;
        let mut buf = vec![0u8; RECV_BUFFER];
        let mut held = None;
        loop {
            let n = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                received = socket.recv(&mut buf) => match received {
                    Ok(n) => n,
                    Err(e) => {
                        // Not expected on a Unix datagram socket; back off instead of spinning.
                        warn!(error = %e, "receiving on the hook socket failed");
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                        }
                        continue;
                    }
                },
            };
            let Some(m) = parse(&buf[..n]) else { continue };
            // Waiting here is the backpressure: the kernel queue fills and hooks spool.
            tokio::select! {
                biased;
                permit = tx.reserve() => match permit {
                    Ok(p) => p.send(m),
                    Err(_) => {
                        held = Some(m);
                        break;
                    }
                },
                () = shutdown.cancelled() => {
                    held = Some(m);
                    break;
                }
            }
        }
        // No new datagrams once the name is gone; the ones already queued are still ours.
        remove_own_socket(&path, socket_id);
        // Straight to the socket: tokio's try_recv trusts readiness it may not have seen yet.
        let queued: Vec<Option<FromHook>> = match socket.into_std() {
            Ok(std) => {
                std::iter::from_fn(|| std.recv(&mut buf).ok().map(|n| parse(&buf[..n]))).collect()
            }
            Err(e) => {
                warn!(error = %e, "cannot read what the hook socket still holds");
                Vec::new()
            }
        };
        for m in held.into_iter().chain(queued.into_iter().flatten()) {
            if let Err(
                mpsc::error::TrySendError::Full(FromHook::Message(m))
                | mpsc::error::TrySendError::Closed(FromHook::Message(m)),
            ) = tx.try_send(m)
                && let Err(e) = vsync_hook_wire::append_to_spool(&spool, &m.to_line())
            {
                warn!(error = %e, "cannot spool a local change at shutdown");
            }
        }
        info!(socket = %path.display(), "hook intake stopped");
    }
}

/// One datagram: a message, the spool nudge, or something we log and drop (the hook only sends
/// what it could not spool otherwise, and the next reconcile's export catches up anyway).
fn parse(datagram: &[u8]) -> Option<FromHook> {
    if datagram.is_empty() {
        return Some(FromHook::Spooled);
    }
    if datagram.len() > vsync_hook_wire::MAX_DATAGRAM {
        warn!(
            bytes = datagram.len(),
            limit = vsync_hook_wire::MAX_DATAGRAM,
            "hook message too long; dropped"
        );
        return None;
    }
    match serde_json::from_slice::<HookMessage>(datagram) {
        Ok(m) => Some(FromHook::Message(m)),
        Err(e) => {
            let excerpt = String::from_utf8_lossy(&datagram[..datagram.len().min(200)]);
            warn!(error = %e, %excerpt, "malformed hook message; dropped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::FileTypeExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use vsync_hook_wire::{HandOver, HookEvent};

    const WAIT: Duration = Duration::from_secs(5);

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "vsi-{}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                vsync_hook_wire::now_us() % 1_000_000
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Running {
        rx: mpsc::Receiver<FromHook>,
        token: CancellationToken,
        task: tokio::task::JoinHandle<()>,
        socket: PathBuf,
        spool: PathBuf,
    }

    fn start(dir: &TempDir, capacity: usize) -> Running {
        let socket = dir.0.join("state").join("watcher.sock");
        let spool = dir.0.join("state").join("spool.jsonl");
        let intake = Intake::bind(&socket).unwrap();
        let (tx, rx) = mpsc::channel(capacity);
        let token = CancellationToken::new();
        let task = tokio::spawn(intake.run(tx, spool.clone(), token.clone()));
        Running {
            rx,
            token,
            task,
            socket,
            spool,
        }
    }

    fn message(command: &str) -> HookMessage {
        let task = serde_json::json!({"uuid": "u-1", "description": command});
        HookMessage::new(HookEvent::Exit, command, vec![task], vec![])
    }

    fn send(socket: &Path, bytes: &[u8]) {
        let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
        s.send_to(bytes, socket).unwrap();
    }

    async fn next(rx: &mut mpsc::Receiver<FromHook>) -> Option<FromHook> {
        tokio::time::timeout(WAIT, rx.recv()).await.unwrap()
    }

    #[tokio::test]
    async fn bind_creates_a_private_dir_and_a_private_socket() {
        let dir = TempDir::new();
        let running = start(&dir, 4);
        let dir_mode = std::fs::metadata(running.socket.parent().unwrap())
            .unwrap()
            .mode();
        let sock = std::fs::symlink_metadata(&running.socket).unwrap();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert!(sock.file_type().is_socket());
        assert_eq!(sock.mode() & 0o777, 0o600);
        running.token.cancel();
    }

    #[tokio::test]
    async fn the_hook_library_hands_over_to_the_intake() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4);
        let msg = message("add");
        let outcome =
            vsync_hook_wire::hand_over(&msg.to_line(), &running.socket, &running.spool).unwrap();
        assert!(matches!(outcome, HandOver::Delivered), "{outcome:?}");
        assert_eq!(next(&mut running.rx).await, Some(FromHook::Message(msg)));
        assert!(!running.spool.exists());
        running.token.cancel();
    }

    /// A message too big for one datagram is spooled, and the intake hears that it was.
    #[tokio::test]
    async fn a_message_too_big_for_a_datagram_is_spooled_and_announced() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4);
        let task = serde_json::json!({"uuid": "u-1", "description": "x".repeat(300 * 1024)});
        let big = HookMessage::new(HookEvent::Exit, "import", vec![task], vec![]);
        let outcome =
            vsync_hook_wire::hand_over(&big.to_line(), &running.socket, &running.spool).unwrap();
        assert!(matches!(outcome, HandOver::Spooled { .. }), "{outcome:?}");
        assert_eq!(next(&mut running.rx).await, Some(FromHook::Spooled));
        assert_eq!(
            vsync_hook_wire::drain_spool(&running.spool).unwrap(),
            vec![big]
        );
        running.token.cancel();
    }

    /// A watcher that stopped reading: its queue fills, then every hand-over spools at once.
    /// Nothing is lost or doubled, and no hand-over waits.
    #[tokio::test]
    async fn a_watcher_that_does_not_read_cannot_block_the_hook() {
        let dir = TempDir::new();
        let socket = dir.0.join("hung.sock");
        let spool = dir.0.join("spool.jsonl");
        let hung = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
        let sent: Vec<HookMessage> = (0..40).map(|i| message(&format!("m{i}"))).collect();
        let started = std::time::Instant::now();
        for m in &sent {
            vsync_hook_wire::hand_over(&m.to_line(), &socket, &spool).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        hung.set_nonblocking(true).unwrap();
        let mut buf = vec![0u8; RECV_BUFFER];
        let mut queued = Vec::new();
        while let Ok(n) = hung.recv(&mut buf) {
            if n > 0 {
                queued.push(serde_json::from_slice::<HookMessage>(&buf[..n]).unwrap());
            }
        }
        let spooled = vsync_hook_wire::drain_spool(&spool).unwrap();
        assert!(!queued.is_empty() && !spooled.is_empty(), "{queued:?}");
        queued.extend(spooled);
        assert_eq!(queued, sent);
    }

    #[tokio::test]
    async fn malformed_and_oversized_datagrams_are_dropped_and_the_intake_keeps_serving() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4);
        send(&running.socket, b"not json");
        send(&running.socket, b"{\"v\":1}");
        let msg = message("after");
        send(&running.socket, msg.to_line().as_bytes());
        assert_eq!(next(&mut running.rx).await, Some(FromHook::Message(msg)));
        assert!(running.rx.try_recv().is_err());
        running.token.cancel();
    }

    #[tokio::test]
    async fn cancel_removes_the_socket_and_keeps_what_was_queued() {
        let dir = TempDir::new();
        let running = start(&dir, 1);
        let (a, b) = (message("a"), message("b"));
        let mut rx = running.rx;
        // Fill the channel so the intake holds the next one while it is cancelled.
        send(&running.socket, a.to_line().as_bytes());
        send(&running.socket, b.to_line().as_bytes());
        let c = message("c");
        send(&running.socket, c.to_line().as_bytes());
        running.token.cancel();
        tokio::time::timeout(WAIT, running.task)
            .await
            .unwrap()
            .unwrap();
        assert!(!running.socket.exists());
        let probe = std::os::unix::net::UnixDatagram::unbound().unwrap();
        assert!(probe.send_to(b"x", &running.socket).is_err());
        let mut got = Vec::new();
        while let Ok(FromHook::Message(m)) = rx.try_recv() {
            got.push(m);
        }
        got.extend(vsync_hook_wire::drain_spool(&running.spool).unwrap());
        assert_eq!(got, vec![a, b, c]);
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_but_a_live_one_or_a_plain_file_is_not() {
        let dir = TempDir::new();
        let socket = dir.0.join("w.sock");
        drop(std::os::unix::net::UnixDatagram::bind(&socket).unwrap()); // leaves the file
        assert!(socket.exists());
        let live = Intake::bind(&socket).unwrap();
        let err = Intake::bind(&socket).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(socket.exists());
        drop(live);

        // An older watcher's stream socket: replaced when dead, kept while it listens.
        let old = dir.0.join("old.sock");
        drop(std::os::unix::net::UnixListener::bind(&old).unwrap());
        drop(Intake::bind(&old).unwrap());
        let old_live = dir.0.join("old-live.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&old_live).unwrap();
        let err = Intake::bind(&old_live).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);

        let plain = dir.0.join("plain");
        std::fs::write(&plain, "keep me").unwrap();
        let err = Intake::bind(&plain).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "keep me");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Issue 14, "parsers fuzzed": whatever arrives on the socket is a message, the spool
        /// nudge, or dropped with a warning; never a panic.
        #[test]
        fn any_datagram_is_a_message_a_nudge_or_dropped(
            d in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            event in "(exit|undo|other)",
            tasks in "\\[.{0,40}\\]",
        ) {
            let _ = parse(&d);
            let shaped = format!(r#"{{"v":1,"event":"{event}","at_us":1,"command":"x","tasks":{tasks}}}"#);
            let _ = parse(shaped.as_bytes());
        }
    }
}
