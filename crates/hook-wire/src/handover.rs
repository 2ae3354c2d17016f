//! Handing one message to tw-watcher: one datagram on its Unix socket, the spool as fallback.
//!
//! A datagram needs no connection, no answer and no helper thread, and a non-blocking send
//! never waits: it is queued in the watcher's socket at once, or refused at once (no watcher,
//! its queue full, the message too big), and then the line goes to the spool. That keeps the
//! hook's cost near a bare process start (docs/BENCHMARKS.md).

use crate::spool::append_to_spool;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// Largest message sent as a datagram: below Linux's default Unix socket send buffer
/// (`net.core.wmem_default`, 212992 bytes), which bounds one datagram. Larger ones (an import
/// of hundreds of tasks) go to the spool, and the watcher is told to drain it.
pub const MAX_DATAGRAM: usize = 200 * 1024;

/// How a message reached the watcher.
#[derive(Debug)]
pub enum HandOver {
    /// Queued in the watcher's socket.
    Delivered,
    /// The socket did not take it; the line is in the spool.
    Spooled {
        /// Why the socket did not work (often just "not running").
        reason: io::Error,
    },
}

/// Sends `line` to the watcher at `socket`; when that fails, appends it to the spool at
/// `spool` and nudges a running watcher to drain it. Errors only when the spool append fails.
pub fn hand_over(line: &str, socket: &Path, spool: &Path) -> io::Result<HandOver> {
    match send_to_watcher(line, socket) {
        Ok(()) => Ok(HandOver::Delivered),
        Err(reason) => {
            append_to_spool(spool, line)?;
            // Fails when no watcher runs; then it drains the spool when it starts.
            let _ = send(b"", socket);
            Ok(HandOver::Spooled { reason })
        }
    }
}

/// Queues `line` as one datagram in the watcher's socket, without waiting. An empty datagram
/// is the "spool has something" nudge, so an empty line is refused here.
pub fn send_to_watcher(line: &str, socket: &Path) -> io::Result<()> {
    if line.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty message"));
    }
    if line.len() > MAX_DATAGRAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "message of {} bytes is larger than one datagram",
                line.len()
            ),
        ));
    }
    send(line.as_bytes(), socket)
}

/// The "spool has something" nudge: an empty datagram, which a watcher reads as "drain the
/// spool" (harmless when it is empty). Succeeds only when a watcher has the socket open.
pub fn nudge(socket: &Path) -> io::Result<()> {
    send(b"", socket)
}

fn send(bytes: &[u8], socket: &Path) -> io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    // A watcher that stopped reading fills its queue; never wait for it.
    sock.set_nonblocking(true)?;
    let sent = sock.send_to(bytes, socket)?;
    if sent == bytes.len() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "datagram cut to {sent} of {} bytes",
            bytes.len()
        )))
    }
}
