//! The hook socket's file: a watcher that died leaves it behind, and only a file nobody receives
//! on may be replaced. A live watcher's socket, someone else's, or a file that is not a socket is
//! never removed.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use tracing::{debug, warn};

/// Removes a socket file nobody receives on; refuses to touch a live one or a non-socket.
pub(crate) fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    // The probe is the spool nudge, which a live watcher takes as a harmless extra drain.
    let probe = std::os::unix::net::UnixDatagram::unbound()?;
    probe.set_nonblocking(true)?;
    match probe.send_to(b"", path) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            debug!(socket = %path.display(), "removing stale hook socket");
            std::fs::remove_file(path)
        }
        // A stream socket of an older watcher: in use if someone listens on it.
        Err(e) if e.raw_os_error() == Some(EPROTOTYPE) => {
            match std::os::unix::net::UnixStream::connect(path) {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    std::fs::remove_file(path)
                }
                _ => Err(in_use(path)),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(in_use(path)),
        Err(e) => Err(e),
        Ok(_) => Err(in_use(path)),
    }
}

/// `EPROTOTYPE` on Linux: a datagram sent to a stream socket.
const EPROTOTYPE: i32 = 91;

fn in_use(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("another watcher is listening on {}", path.display()),
    )
}

/// Removes the socket file at `path` if it is still ours (`id`: its dev and inode).
pub(crate) fn remove_own_socket(path: &Path, id: (u64, u64)) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if (m.dev(), m.ino()) == id => {
            if let Err(e) = std::fs::remove_file(path) {
                warn!(socket = %path.display(), error = %e, "could not remove hook socket");
            }
        }
        // Gone already, or replaced by someone else's: leave it.
        _ => {}
    }
}
