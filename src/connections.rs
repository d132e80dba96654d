//! Serving connections with bounds `axum::serve` cannot set: at most `server.max_connections`
//! open connections and `server.max_connections_per_client` per client network (IPv4
//! address, IPv6 /64; trusted proxies count only against the global cap), the request head
//! within `server.header_read_timeout`, idle keep-alive connections closed after
//! `server.keep_alive_timeout`, and (in the router, `body_deadline`) a request body within
//! `server.body_read_timeout`. On a stop, a connection that has not begun its first request
//! yet gets a moment to send it (a restart under socket activation answers every client that
//! had connected), an idle one is closed at once and a busy one finishes its request. A
//! connection over a cap is closed at once, counted in `http_connections_rejected_total{reason}`
//! and logged at most once a minute. The same loop serves the plain listener, the HTTPS
//! listener and the metrics listener.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::ConnectionSettings;
use crate::domain::hold_limits::network_of;

mod slotted;
pub use slotted::Slotted;

/// The open connections, by client, against the configured caps.
pub struct Connections {
    settings: ConnectionSettings,
    /// Addresses that speak for many clients (`server.trusted_proxies`): no per-client cap.
    proxies: Vec<IpAddr>,
    open: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    /// When shedding was last logged (ms since `started`), for the once-a-minute warning.
    last_warning_ms: AtomicU64,
    started: Instant,
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    Global,
    PerClient,
}

impl Rejected {
    fn label(self) -> &'static str {
        match self {
            Rejected::Global => "global",
            Rejected::PerClient => "per_client",
        }
    }
}

/// An admitted connection; its slot is given back when this is dropped.
pub struct Admitted {
    connections: Arc<Connections>,
    client: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.open.fetch_sub(1, Ordering::SeqCst);
        if let Some(client) = self.client {
            let mut per = self.connections.lock();
            if let Some(n) = per.get_mut(&client) {
                *n -= 1;
                if *n == 0 {
                    per.remove(&client);
                }
            }
        }
    }
}

impl Connections {
    pub fn new(settings: ConnectionSettings, proxies: Vec<IpAddr>) -> Arc<Connections> {
        Arc::new(Connections {
            settings,
            proxies,
            open: AtomicUsize::new(0),
            per_client: Mutex::new(HashMap::new()),
            last_warning_ms: AtomicU64::new(u64::MAX),
            started: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_client.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bounds every connection gets.
    pub fn settings(&self) -> ConnectionSettings {
        self.settings
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Takes a slot for a connection from `peer`, or says which cap it is over.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Rejected> {
        let peer = peer.to_canonical();
        let client = (!self.proxies.contains(&peer)).then(|| network_of(peer));
        if self.open.fetch_add(1, Ordering::SeqCst) >= self.settings.max_connections {
            self.open.fetch_sub(1, Ordering::SeqCst);
            return Err(self.shed(Rejected::Global));
        }
        if let Some(client) = client {
            let mut per = self.lock();
            let n = per.entry(client).or_insert(0);
            if *n >= self.settings.max_connections_per_client {
                drop(per);
                self.open.fetch_sub(1, Ordering::SeqCst);
                return Err(self.shed(Rejected::PerClient));
            }
            *n += 1;
        }
        Ok(Admitted {
            connections: self.clone(),
            client,
        })
    }

    /// Counts a refused connection and warns, at most once a minute.
    fn shed(&self, reason: Rejected) -> Rejected {
        metrics::counter!("http_connections_rejected_total", "reason" => reason.label())
            .increment(1);
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_warning_ms.load(Ordering::Relaxed);
        if (last == u64::MAX || now.saturating_sub(last) >= 60_000)
            && self
                .last_warning_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                reason = reason.label(),
                open = self.open(),
                max_connections = self.settings.max_connections,
                max_connections_per_client = self.settings.max_connections_per_client,
                "shedding connections: a cap is reached (logged at most once a minute; see http_connections_rejected_total)"
            );
        }
        reason
    }
}

/// Raises this process's soft limit of open files towards its hard limit, so
/// `server.max_connections` fits (a shell's default soft limit is often 1,024); warns when
/// even the hard limit is too low.
pub fn fit_open_files(max_connections: usize) {
    let wanted = (max_connections as u64).saturating_add(256);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on this process with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < wanted {
            limit.rlim_cur = limit.rlim_max.min(wanted.max(limit.rlim_cur));
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    if limit.rlim_max < wanted {
        tracing::warn!(
            hard_limit = limit.rlim_max,
            max_connections,
            "the open-files limit is too low for server.max_connections; raise LimitNOFILE (or ulimit -n) or lower max_connections"
        );
    }
}

/// Where a listener's connections take their slot.
#[derive(Clone)]
pub enum Admission {
    /// When the HTTP loop accepts them.
    Here(Arc<Connections>),
    /// Already taken by the listener ([`Slotted`] streams).
    Done(ConnectionSettings),
}

impl Admission {
    fn settings(&self) -> ConnectionSettings {
        match self {
            Admission::Here(c) => c.settings,
            Admission::Done(s) => *s,
        }
    }
}

/// Serves `listener` with `router` until `stop` turns true, then lets the open connections
/// finish their current request and returns once they are closed.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    admission: Admission,
    mut stop: watch::Receiver<bool>,
) where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let mut open = JoinSet::new();
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
            // Reap finished connections as they end (the set would otherwise only grow).
            Some(_) = open.join_next(), if !open.is_empty() => continue,
        };
        let admitted = match &admission {
            Admission::Here(connections) => match connections.admit(peer.ip()) {
                Ok(slot) => Some(slot),
                Err(_) => continue,
            },
            Admission::Done(_) => None,
        };
        let settings = admission.settings();
        let router = router.clone();
        let stop = stop.clone();
        open.spawn(async move {
            let _slot = admitted;
            serve_connection(io, peer, router, settings, stop).await;
        });
    }
    while open.join_next().await.is_some() {}
}

/// One HTTP/1.1 connection: head timeout by hyper, keep-alive idle timeout and graceful
/// shutdown here. The idle check wakes once per `keep_alive_timeout`, not per request.
async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    settings: ConnectionSettings,
    mut stop: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.begin();
            let router = router.clone();
            async move {
                let response = router.oneshot(req.map(axum::body::Body::new)).await;
                drop(busy);
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let keep_alive = settings.keep_alive_timeout;
    let mut wait = keep_alive;
    let mut closing = false;
    // Set when the server stops before this connection's first request has begun.
    let mut first_request_deadline = None;
    loop {
        tokio::select! {
            // The connection first, so bytes that have already arrived are read before a stop
            // is acted on.
            biased;
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s), if !closing && first_request_deadline.is_none() => {
                if activity.has_begun() {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                } else {
                    // hyper closes a connection that has read nothing yet at once; a client
                    // that has just connected sends its request within moments, so it gets
                    // that long to be answered instead of an empty reply.
                    let grace = FIRST_REQUEST_GRACE.min(settings.header_read_timeout);
                    first_request_deadline = Some(tokio::time::Instant::now() + grace);
                }
            }
            _ = activity.first_request_by(first_request_deadline), if first_request_deadline.is_some() && !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = tokio::time::sleep(wait), if !closing => match activity.idle_for() {
                Some(idle) if idle >= keep_alive => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                Some(idle) => wait = keep_alive - idle,
                None => wait = keep_alive,
            },
        }
    }
}

/// How long a connection that has not begun its first request when the server stops may take
/// to begin it (at most `server.header_read_timeout`); one that has served a request and waits
/// for the next is closed at once.
const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// Whether a connection is serving a request, whether one has begun on it, and since when it
/// has been idle: atomics the requests update, read when the idle timer fires or the server
/// stops.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Whether a request has begun on this connection, and the wake-up when the first does.
    begun: AtomicBool,
    first: Notify,
    /// Milliseconds from `started` to the end of the last request (0: none yet).
    idle_since_ms: AtomicU64,
}

/// A request in progress; the connection is idle again when the last one is dropped.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            begun: AtomicBool::new(false),
            first: Notify::new(),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if !self.begun.load(Ordering::Relaxed) && !self.begun.swap(true, Ordering::SeqCst) {
            self.first.notify_one();
        }
        Busy(self.clone())
    }

    fn has_begun(&self) -> bool {
        self.begun.load(Ordering::SeqCst)
    }

    /// Resolves once the connection's first request has begun (at once if it has) or
    /// `deadline` passes, whichever comes first; never without a deadline.
    async fn first_request_by(&self, deadline: Option<tokio::time::Instant>) {
        let Some(deadline) = deadline else {
            return std::future::pending().await;
        };
        if !self.has_begun() {
            let _ = tokio::time::timeout_at(deadline, self.first.notified()).await;
        }
    }

    /// How long the connection has been idle, `None` while a request is served (a new
    /// connection is idle from its start).
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
        Some(self.started.elapsed().saturating_sub(since))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.started.elapsed().as_millis() as u64;
        self.0.idle_since_ms.store(now, Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests;
