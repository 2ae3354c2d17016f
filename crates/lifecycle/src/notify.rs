//! sd_notify(3): telling the service manager (systemd with `Type=notify`, or `vikunja-sync up`
//! for its services) that the service is ready or stopping. A no-op without `$NOTIFY_SOCKET`.

/// `READY=1`: the service is connected, bound and working.
pub fn notify_ready() {
    notify("READY=1");
}

/// `STOPPING=1`: the service got its shutdown signal and is finishing in-flight work.
pub fn notify_stopping() {
    notify("STOPPING=1");
}

/// Sends one state line to `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
    } else {
        sock.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}
