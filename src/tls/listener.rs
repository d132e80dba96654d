//! An axum listener that yields TLS streams. TCP accepts and TLS handshakes are separate: each
//! handshake runs in its own task with a deadline, a bounded number at a time, so a slow or
//! silent client delays nobody else; a connection takes its slot under the connection caps
//! (`crate::connections`) at TCP accept, so one client cannot hold the handshake slots.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::resolver::ACME_TLS_ALPN;
use crate::connections::{Connections, Slotted};

/// A client gets this long to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 256;

/// TLS connections, handshake done, ready for HTTP.
pub struct TlsListener {
    ready: mpsc::Receiver<(Slotted<TlsStream<TcpStream>>, SocketAddr)>,
    local: SocketAddr,
    acceptor_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Connections take their slot in `connections` at TCP accept, before the handshake, so
    /// one client cannot fill the handshake slots either.
    pub fn new(
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
        connections: Arc<Connections>,
    ) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(MAX_HANDSHAKES);
        let acceptor = TlsAcceptor::from(config);
        let acceptor_task = tokio::spawn(accept_loop(listener, acceptor, connections, tx));
        Ok(TlsListener {
            ready,
            local,
            acceptor_task,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    connections: Arc<Connections>,
    ready: mpsc::Sender<(Slotted<TlsStream<TcpStream>>, SocketAddr)>,
) {
    let permits = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors or a connection reset before accept: pause briefly
                // (as axum's own listener does) instead of spinning.
                tracing::debug!(error = %e, "https accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = connections.admit(peer.ip()) else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    // A TLS-ALPN-01 validation ends with the handshake; it carries no HTTP.
                    if tls.get_ref().1.alpn_protocol() != Some(ACME_TLS_ALPN) {
                        let _ = ready.send((Slotted::new(tls, slot), peer)).await;
                    }
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        });
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Slotted<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
