//! Handing one message line to tw-watcher: the Unix socket first, the spool as fallback.

use crate::spool::append_to_spool;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Total time the hook gives connect + write + `ok` before it spools instead.
pub const HANDOVER_BUDGET: Duration = Duration::from_millis(150);

/// How a message reached the watcher.
#[derive(Debug)]
pub enum HandOver {
    /// The watcher answered `ok`.
    Delivered,
    /// The watcher was not reachable or did not answer in time; the line is in the spool.
    Spooled {
        /// Why the socket did not work (often just "not running").
        reason: io::Error,
    },
}

/// Sends `line` to the watcher at `socket` within [`HANDOVER_BUDGET`]; on any failure appends
/// it to the spool at `spool`. Errors only when the spool append fails as well.
pub fn hand_over(line: &str, socket: &Path, spool: &Path) -> io::Result<HandOver> {
    match send_to_watcher(line, socket, HANDOVER_BUDGET) {
        Ok(()) => Ok(HandOver::Delivered),
        Err(reason) => {
            append_to_spool(spool, line)?;
            Ok(HandOver::Spooled { reason })
        }
    }
}

/// Writes `line` + `\n` to the socket and waits for `ok\n`, all within `budget`.
///
/// The exchange runs on a helper thread because std cannot bound `connect()`, which blocks
/// while a stuck listener's backlog is full; on timeout the thread is abandoned (the hook
/// exits soon after). A late `ok` after a timeout means a duplicate, which is harmless.
pub fn send_to_watcher(line: &str, socket: &Path, budget: Duration) -> io::Result<()> {
    let deadline = Instant::now() + budget;
    let mut payload = Vec::with_capacity(line.len() + 1);
    payload.extend_from_slice(line.as_bytes());
    payload.push(b'\n');
    let socket = socket.to_path_buf();
    let (tx, rx) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("handover".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = tx.send(exchange(&socket, &payload, deadline));
        })?;
    match rx.recv_timeout(budget) {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "watcher did not answer in time",
        )),
    }
}

fn exchange(socket: &Path, payload: &[u8], deadline: Instant) -> io::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    stream.write_all(payload)?;
    let mut reply = [0u8; 16];
    let mut len = 0;
    while len < reply.len() && !reply[..len].contains(&b'\n') {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        let n = stream.read(&mut reply[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    if &reply[..len] == b"ok\n" {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "watcher answered {:?}",
            String::from_utf8_lossy(&reply[..len])
        )))
    }
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "hand-over budget spent",
        ))
    } else {
        Ok(left)
    }
}
