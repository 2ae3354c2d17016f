//! The listening socket. It can go offline (connections are refused and open ones cut) and
//! come back on the same port, and every connection can be cut on its own, which is how a
//! response is lost after its change was committed.

use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::shared::lock;

/// One accepted connection, as every request on it sees it (`ConnectInfo<Conn>`).
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    /// A second handle on the socket, to shut it down from a request handler.
    socket: Option<Arc<std::net::TcpStream>>,
}

impl Conn {
    /// Closes the connection in both directions: the client reads end of stream before
    /// any answer ("connection closed before message completed").
    pub fn cut(&self) {
        if let Some(s) = &self.socket {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Whether the listening socket is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bound {
    Listening,
    Closed,
    /// Coming back failed (e.g. the port was taken meanwhile); retried until it works.
    Failed(String),
}

/// The switch between online and offline, shared by the listener and the simulator handle.
pub(crate) struct Availability {
    online: watch::Sender<bool>,
    bound: watch::Sender<Bound>,
    live: Mutex<Vec<Weak<std::net::TcpStream>>>,
}

impl Availability {
    /// Refuses new connections and cuts the open ones; returns once the socket is closed.
    pub async fn go_offline(&self) {
        self.online.send_replace(false);
        self.cut_all();
        let mut bound = self.bound.subscribe();
        let _ = bound.wait_for(|b| *b != Bound::Listening).await;
        // A connection accepted while the switch was on its way.
        self.cut_all();
    }

    fn cut_all(&self) {
        for socket in lock(&self.live).drain(..).filter_map(|w| w.upgrade()) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// Listens on the same port again; the error says why that failed.
    pub async fn go_online(&self) -> std::io::Result<()> {
        if !*self.online.borrow() {
            self.bound.send_replace(Bound::Closed);
            self.online.send_replace(true);
        }
        let mut bound = self.bound.subscribe();
        let state = bound
            .wait_for(|b| *b != Bound::Closed)
            .await
            .map(|b| b.clone());
        match state {
            Ok(Bound::Listening) => Ok(()),
            Ok(Bound::Failed(e)) => Err(std::io::Error::other(e)),
            _ => Err(std::io::Error::other("the simulator stopped")),
        }
    }

    pub fn is_online(&self) -> bool {
        *self.online.borrow()
    }
}

/// `axum::serve`'s listener: accepts while online, holds no socket while offline.
pub(crate) struct SimListener {
    addr: SocketAddr,
    socket: Option<TcpListener>,
    online: watch::Receiver<bool>,
    avail: Arc<Availability>,
}

impl SimListener {
    pub async fn bind() -> std::io::Result<(SimListener, Arc<Availability>)> {
        let socket = TcpListener::bind("127.0.0.1:0").await?;
        let addr = socket.local_addr()?;
        let (online, online_rx) = watch::channel(true);
        let (bound, _) = watch::channel(Bound::Listening);
        let avail = Arc::new(Availability {
            online,
            bound,
            live: Mutex::new(Vec::new()),
        });
        let listener = SimListener {
            addr,
            socket: Some(socket),
            online: online_rx,
            avail: Arc::clone(&avail),
        };
        Ok((listener, avail))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Keeps a second handle on the socket so that a handler can cut it.
    fn track(&self, stream: TcpStream) -> std::io::Result<(TcpStream, Conn)> {
        let std_stream = stream.into_std()?;
        let handle = Arc::new(std_stream.try_clone()?);
        let stream = TcpStream::from_std(std_stream)?;
        let mut live = lock(&self.avail.live);
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(&handle));
        Ok((
            stream,
            Conn {
                socket: Some(handle),
            },
        ))
    }
}

impl Listener for SimListener {
    type Io = TcpStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (TcpStream, Conn) {
        loop {
            if !*self.online.borrow_and_update() {
                if self.socket.take().is_some() {
                    self.avail.bound.send_replace(Bound::Closed);
                }
                if self.online.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                continue;
            }
            let Some(socket) = &self.socket else {
                match TcpListener::bind(self.addr).await {
                    Ok(s) => {
                        self.socket = Some(s);
                        self.avail.bound.send_replace(Bound::Listening);
                    }
                    Err(e) => {
                        self.avail.bound.send_replace(Bound::Failed(e.to_string()));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                continue;
            };
            let accepted = tokio::select! {
                r = socket.accept() => r,
                _ = self.online.changed() => continue,
            };
            match accepted.and_then(|(stream, _)| self.track(stream)) {
                Ok(conn) => return conn,
                // Out of file descriptors and the like: wait a little, as axum does.
                Err(e) => {
                    tracing::debug!(error = %e, "vikunja-sim accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Conn> {
        Ok(Conn { socket: None })
    }
}
