//! Hook intake: the Unix socket the Taskwarrior hook hands its messages to, and the spool it
//! falls back to while we are not listening.
//!
//! Protocol (docs/ARCHITECTURE.md §3): one connection carries one JSON line, a
//! [`HookMessage`]; we answer `ok\n` once the message is handed on (we "hold" it), `err\n`
//! when it is malformed or cannot be handed on. Without `ok` the hook spools the line, so
//! answering `err` is always safe; duplicates are harmless downstream.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};
use vikunja_sync_hook::HookMessage;

/// Longest message line accepted (an `import` of many tasks gives long on-exit lines).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// How long a connection may take to deliver its line.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for connections still being handled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long `bind` waits when probing an existing socket file for a live watcher.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The bound hook socket plus the spool path that goes with it.
#[derive(Debug)]
pub struct Intake {
    listener: UnixListener,
    socket: PathBuf,
    spool: PathBuf,
    /// (dev, ino) of the socket file we created, so we only ever remove our own.
    socket_id: (u64, u64),
}

impl Intake {
    /// Binds the hook socket at `socket`: creates its directory (mode 0700) if missing,
    /// removes a stale socket file left by a dead watcher, and refuses (`AddrInUse`) when a
    /// live watcher still answers there. A non-socket file at the path is never removed.
    pub async fn bind(socket: &Path, spool: &Path) -> io::Result<Intake> {
        if let Some(dir) = socket.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        remove_stale_socket(socket).await?;
        let listener = UnixListener::bind(socket)?;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
        let meta = std::fs::symlink_metadata(socket)?;
        info!(socket = %socket.display(), "hook intake listening");
        Ok(Intake {
            listener,
            socket: socket.to_path_buf(),
            spool: spool.to_path_buf(),
            socket_id: (meta.dev(), meta.ino()),
        })
    }

    /// The socket path.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The spool path.
    pub fn spool_path(&self) -> &Path {
        &self.spool
    }

    /// Takes everything the hook spooled while we were away, oldest first (see
    /// [`vikunja_sync_hook::drain_spool_report`]); malformed lines are logged and skipped.
    pub fn drain_spool(&self) -> io::Result<Vec<HookMessage>> {
        let drained = vikunja_sync_hook::drain_spool_report(&self.spool)?;
        for bad in &drained.malformed {
            warn!(
                file = %bad.file.display(),
                line = bad.line_no,
                error = %bad.error,
                excerpt = %bad.excerpt,
                "skipped malformed spool line"
            );
        }
        if !drained.messages.is_empty() {
            info!(count = drained.messages.len(), "drained hook spool");
        }
        Ok(drained.messages)
    }

    /// Accepts hook connections until `shutdown` is cancelled, forwarding each message to
    /// `tx` before answering `ok`. On cancel it stops accepting, removes the socket file and
    /// gives in-flight connections a short grace period (those not done answer `err`, so
    /// their hooks spool).
    pub async fn run(self, tx: mpsc::Sender<HookMessage>, shutdown: CancellationToken) {
        let Intake {
            listener,
            socket,
            socket_id,
            ..
        } = self;
        let tracker = TaskTracker::new();
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tracker.spawn(handle(stream, tx.clone(), shutdown.clone()));
                    }
                    Err(e) => {
                        // E.g. out of file descriptors: back off instead of spinning.
                        warn!(error = %e, "accept on hook socket failed");
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        }
                    }
                },
            }
        }
        drop(listener);
        remove_own_socket(&socket, socket_id);
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            warn!("hook connections still open at shutdown; their hooks will spool");
        }
        info!(socket = %socket.display(), "hook intake stopped");
    }
}

/// What one connection delivered.
enum Received {
    Line(Vec<u8>),
    /// Closed without sending anything (a probe, or a hook that gave up).
    Nothing,
    TooLong,
}

async fn handle(stream: UnixStream, tx: mpsc::Sender<HookMessage>, shutdown: CancellationToken) {
    let (read, mut write) = stream.into_split();
    let received = match tokio::time::timeout(READ_TIMEOUT, read_line(read)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            debug!(error = %e, "reading hook connection failed");
            return;
        }
        Err(_) => {
            debug!("hook connection sent no complete line in time");
            return;
        }
    };
    let line = match received {
        Received::Line(line) => line,
        Received::Nothing => return,
        Received::TooLong => {
            warn!(limit = MAX_LINE_BYTES, "hook message too long; rejected");
            answer(&mut write, b"err\n").await;
            return;
        }
    };
    let msg = match serde_json::from_slice::<HookMessage>(&line) {
        Ok(msg) => msg,
        Err(e) => {
            let excerpt = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
            warn!(error = %e, %excerpt, "malformed hook message; rejected");
            answer(&mut write, b"err\n").await;
            return;
        }
    };
    let held = tokio::select! {
        biased;
        sent = tx.send(msg) => sent.is_ok(),
        () = shutdown.cancelled() => false,
    };
    if held {
        answer(&mut write, b"ok\n").await;
    } else {
        debug!("hook message not taken (shutting down); the hook will spool it");
        answer(&mut write, b"err\n").await;
    }
}

/// Reads one `\n`-terminated line of at most [`MAX_LINE_BYTES`]. A last line without `\n`
/// still counts (a client that half-closes after writing).
async fn read_line(read: tokio::net::unix::OwnedReadHalf) -> io::Result<Received> {
    let mut reader = BufReader::new(read).take(MAX_LINE_BYTES as u64 + 1);
    let mut buf = Vec::new();
    reader.read_until(b'\n', &mut buf).await?;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        Ok(Received::Line(buf))
    } else if buf.len() > MAX_LINE_BYTES {
        Ok(Received::TooLong)
    } else if buf.is_empty() {
        Ok(Received::Nothing)
    } else {
        Ok(Received::Line(buf))
    }
}

async fn answer(write: &mut tokio::net::unix::OwnedWriteHalf, reply: &[u8]) {
    // The hook may have given up already; it spools on its own, nothing to do here.
    if let Err(e) = write.write_all(reply).await {
        debug!(error = %e, "could not answer hook");
    }
}

/// Removes a socket file nobody listens on; refuses to touch a live one or a non-socket.
async fn remove_stale_socket(socket: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(socket) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", socket.display()),
        ));
    }
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(socket)).await {
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            debug!(socket = %socket.display(), "removing stale hook socket");
            std::fs::remove_file(socket)
        }
        Ok(Err(e)) => Err(e),
        Ok(Ok(_)) | Err(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("another watcher is listening on {}", socket.display()),
        )),
    }
}

fn remove_own_socket(socket: &Path, id: (u64, u64)) {
    match std::fs::symlink_metadata(socket) {
        Ok(m) if (m.dev(), m.ino()) == id => {
            if let Err(e) = std::fs::remove_file(socket) {
                warn!(socket = %socket.display(), error = %e, "could not remove hook socket");
            }
        }
        // Gone already, or replaced by someone else's: leave it.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncReadExt;
    use vikunja_sync_hook::{HandOver, HookEvent};

    const WAIT: Duration = Duration::from_secs(5);

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "vsi-{}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                vikunja_sync_hook::now_us() % 1_000_000
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
        rx: mpsc::Receiver<HookMessage>,
        token: CancellationToken,
        task: tokio::task::JoinHandle<()>,
        socket: PathBuf,
        spool: PathBuf,
    }

    async fn start(dir: &TempDir, capacity: usize) -> Running {
        let socket = dir.0.join("state").join("watcher.sock");
        let spool = dir.0.join("state").join("spool.jsonl");
        let intake = Intake::bind(&socket, &spool).await.unwrap();
        let (tx, rx) = mpsc::channel(capacity);
        let token = CancellationToken::new();
        let task = tokio::spawn(intake.run(tx, token.clone()));
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

    /// Sends raw bytes, half-closes, returns the answer.
    async fn exchange(socket: &Path, bytes: &[u8]) -> String {
        let stream = UnixStream::connect(socket).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let bytes = bytes.to_vec();
        let writer = tokio::spawn(async move {
            // The server may stop reading early (too long): ignore broken pipes.
            let _ = write.write_all(&bytes).await;
            let _ = write.shutdown().await;
        });
        let mut reply = String::new();
        tokio::time::timeout(WAIT, read.read_to_string(&mut reply))
            .await
            .unwrap()
            .unwrap();
        writer.await.unwrap();
        reply
    }

    #[tokio::test]
    async fn bind_creates_a_private_dir_and_a_private_socket() {
        let dir = TempDir::new();
        let running = start(&dir, 4).await;
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
    async fn a_message_is_forwarded_then_acknowledged() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4).await;
        let msg = message("modify");
        let reply = exchange(&running.socket, format!("{}\n", msg.to_line()).as_bytes()).await;
        assert_eq!(reply, "ok\n");
        let got = tokio::time::timeout(WAIT, running.rx.recv()).await.unwrap();
        assert_eq!(got, Some(msg));
        running.token.cancel();
    }

    #[tokio::test]
    async fn the_hook_library_hands_over_to_the_intake() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4).await;
        let msg = message("add");
        let (line, socket, spool) = (msg.to_line(), running.socket.clone(), running.spool.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            vikunja_sync_hook::hand_over(&line, &socket, &spool)
        })
        .await
        .unwrap()
        .unwrap();
        assert!(matches!(outcome, HandOver::Delivered), "{outcome:?}");
        let got = tokio::time::timeout(WAIT, running.rx.recv()).await.unwrap();
        assert_eq!(got, Some(msg));
        assert!(!running.spool.exists());
        running.token.cancel();
    }

    /// A watcher that stopped accepting fills its backlog; then `connect()` itself blocks.
    /// The hook's hand-over must still give up within its budget every time.
    #[tokio::test]
    async fn a_hung_watcher_with_a_full_backlog_cannot_block_the_hook() {
        let dir = TempDir::new();
        let socket = dir.0.join("hung.sock");
        let sock = tokio::net::UnixSocket::new_stream().unwrap();
        sock.bind(&socket).unwrap();
        let _listener = sock.listen(1).unwrap(); // never accepts
        for _ in 0..4 {
            let socket = socket.clone();
            let started = std::time::Instant::now();
            let result = tokio::task::spawn_blocking(move || {
                vikunja_sync_hook::handover::send_to_watcher(
                    "{}",
                    &socket,
                    vikunja_sync_hook::HANDOVER_BUDGET,
                )
            })
            .await
            .unwrap();
            let err = result.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{:?}",
                started.elapsed()
            );
        }
    }

    #[tokio::test]
    async fn malformed_and_oversized_lines_are_rejected_and_not_forwarded() {
        let dir = TempDir::new();
        let mut running = start(&dir, 4).await;
        assert_eq!(exchange(&running.socket, b"not json\n").await, "err\n");
        assert_eq!(exchange(&running.socket, b"{\"v\":1}\n").await, "err\n");
        let huge = vec![b'x'; MAX_LINE_BYTES + 10];
        assert_eq!(exchange(&running.socket, &huge).await, "err\n");
        // A connection that sends nothing gets nothing, and the intake keeps serving.
        assert_eq!(exchange(&running.socket, b"").await, "");
        let msg = message("after");
        let line = msg.to_line();
        assert_eq!(exchange(&running.socket, line.as_bytes()).await, "ok\n");
        assert_eq!(running.rx.recv().await, Some(msg));
        assert!(running.rx.try_recv().is_err());
        running.token.cancel();
    }

    #[tokio::test]
    async fn a_closed_receiver_answers_err_so_the_hook_spools() {
        let dir = TempDir::new();
        let running = start(&dir, 1).await;
        drop(running.rx);
        let line = format!("{}\n", message("x").to_line());
        assert_eq!(exchange(&running.socket, line.as_bytes()).await, "err\n");
        running.token.cancel();
    }

    #[tokio::test]
    async fn cancel_stops_the_intake_and_removes_the_socket() {
        let dir = TempDir::new();
        let running = start(&dir, 4).await;
        assert!(running.socket.exists());
        running.token.cancel();
        tokio::time::timeout(WAIT, running.task)
            .await
            .unwrap()
            .unwrap();
        assert!(!running.socket.exists());
        let refused = UnixStream::connect(&running.socket).await;
        assert!(refused.is_err());
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_but_a_live_one_or_a_plain_file_is_not() {
        let dir = TempDir::new();
        let socket = dir.0.join("w.sock");
        let spool = dir.0.join("spool.jsonl");
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap()); // leaves the file
        assert!(socket.exists());
        let live = Intake::bind(&socket, &spool).await.unwrap();

        let err = Intake::bind(&socket, &spool).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(socket.exists());
        drop(live);

        let plain = dir.0.join("plain");
        std::fs::write(&plain, "keep me").unwrap();
        let err = Intake::bind(&plain, &spool).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "keep me");
    }

    #[tokio::test]
    async fn drain_spool_returns_what_the_hook_spooled() {
        let dir = TempDir::new();
        let running = start(&dir, 4).await;
        let (a, b) = (message("a"), message("b"));
        vikunja_sync_hook::append_to_spool(&running.spool, &a.to_line()).unwrap();
        vikunja_sync_hook::append_to_spool(&running.spool, "garbage").unwrap();
        vikunja_sync_hook::append_to_spool(&running.spool, &b.to_line()).unwrap();
        let intake_for_drain = Intake::bind(&dir.0.join("other.sock"), &running.spool)
            .await
            .unwrap();
        assert_eq!(intake_for_drain.drain_spool().unwrap(), vec![a, b]);
        assert!(intake_for_drain.drain_spool().unwrap().is_empty());
        running.token.cancel();
    }
}
