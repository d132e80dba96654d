//! Connection floods over loopback: 2,000 idle half-sent connections from one address, and
//! 2,000 requests that declare a 1 GB body and send 1 byte, while another client books.
//! Every call of the other client answers; the flood's connections are closed at once over
//! the per-client cap or within the header (or body) timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::helpers::{TestApp, day};

const FLOOD: usize = 2_000;

/// Opens `FLOOD` connections to `server` from `source` (another loopback address), sends
/// `prefix` on each and returns, per connection, how long after the send the server closed
/// it (or `None` if it stayed open `wait`).
async fn flood(
    server: SocketAddr,
    source: &str,
    prefix: &'static [u8],
    wait: Duration,
) -> Vec<Option<Duration>> {
    let source: SocketAddr = format!("{source}:0").parse().unwrap();
    let mut tasks = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(source).unwrap();
        let Ok(mut stream) = socket.connect(server).await else {
            tasks.push(tokio::spawn(async { Some(Duration::ZERO) }));
            continue;
        };
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            if stream.write_all(prefix).await.is_err() {
                return Some(sent.elapsed());
            }
            let mut buf = vec![0u8; 4096];
            let closed = async {
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return sent.elapsed(),
                        Ok(_) => {}
                    }
                }
            };
            tokio::time::timeout(wait, closed).await.ok()
        }));
    }
    let mut out = Vec::with_capacity(FLOOD);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Healthz and quotes from 127.0.0.1 until `until` says stop; the latency of each call.
async fn book_meanwhile(app: &TestApp, acc: u64, done: impl Fn() -> bool) -> Vec<Duration> {
    let quote = format!(
        "/api/v1/accommodations/{acc}/quote?check_in={}&check_out={}&guests=2",
        day(20),
        day(23)
    );
    let mut latencies = Vec::new();
    while !done() || latencies.len() < 200 {
        for path in ["/api/v1/healthz", quote.as_str()] {
            let started = Instant::now();
            let r = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            latencies.push(started.elapsed());
        }
    }
    latencies
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[latencies.len() * 99 / 100]
}

/// The test process serves and floods: it needs more descriptors than the default 1,024.
fn raise_open_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on this process with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < 8_192 {
            limit.rlim_cur = limit.rlim_max.min(8_192);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

async fn spawn() -> (TestApp, u64) {
    raise_open_files();
    let app = TestApp::spawn_with(|raw| {
        raw.server.header_read_timeout = "3s".into();
        raw.server.keep_alive_timeout = "10s".into();
        raw.server.body_read_timeout = "3s".into();
        raw.server.max_connections_per_client = 64;
    })
    .await;
    let acc = app.accommodation(json!({})).await;
    (app, acc)
}

/// Floods `app` from `source` with `prefix` while 127.0.0.1 books; checks every flood
/// connection is closed within `limit` (a timeout of the test's settings, plus slack) and
/// every booking call answered; returns (calls, p99, slowest close).
async fn flood_while_booking(
    app: &TestApp,
    acc: u64,
    source: &'static str,
    prefix: &'static [u8],
    limit: Duration,
) -> (usize, Duration, Duration) {
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attack = {
        let (addr, finished) = (app.addr, finished.clone());
        tokio::spawn(async move {
            let closed = flood(addr, source, prefix, Duration::from_secs(15)).await;
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
            closed
        })
    };
    let latencies = book_meanwhile(app, acc, || {
        finished.load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    let closed = attack.await.unwrap();
    assert!(
        closed.iter().all(Option::is_some),
        "{} of {FLOOD} flood connections stayed open",
        closed.iter().filter(|c| c.is_none()).count()
    );
    let slowest = closed.iter().flatten().max().copied().unwrap();
    assert!(
        slowest <= limit + Duration::from_millis(1500),
        "closed within {limit:?}: the last after {slowest:?}"
    );
    let calls = latencies.len();
    let p99 = p99(latencies);
    assert!(p99 < Duration::from_millis(500), "p99 {p99:?}");
    (calls, p99, slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_half_sent_connections_do_not_starve_other_clients() {
    let (app, acc) = spawn().await;
    let head = b"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow";
    let (calls, p99, slowest) =
        flood_while_booking(&app, acc, "127.0.0.2", head, Duration::from_secs(3)).await;
    let rejected = app
        .metric(
            "http_connections_rejected_total",
            &[("reason", "per_client")],
        )
        .await;
    eprintln!(
        "idle flood: {calls} calls answered, p99 {p99:?}; flood connections all closed, the last after {slowest:?}; rejected so far: {rejected}"
    );
    assert!(rejected >= (FLOOD - 64) as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_declared_huge_and_sent_slowly_do_not_starve_other_clients() {
    let (app, acc) = spawn().await;
    let huge = b"POST /api/v1/reservations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{";
    let (calls, p99, slowest) =
        flood_while_booking(&app, acc, "127.0.0.3", huge, Duration::from_secs(3)).await;
    eprintln!(
        "1 GB bodies: {calls} calls answered, p99 {p99:?}; the last flood connection closed after {slowest:?}"
    );
    // The same request on its own gets a clear answer, not a hang.
    let mut one = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    one.write_all(huge).await.unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), one.read_to_string(&mut answer)).await;
    assert!(
        answer.starts_with("HTTP/1.1 413") || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = TestApp::spawn_with(|raw| {
        raw.server.keep_alive_timeout = "1s".into();
        raw.server.header_read_timeout = "20s".into();
    })
    .await;
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    conn.write_all(b"GET /api/v1/readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return answered.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("closed by the keep-alive timeout, long before the header timeout");
    assert!(
        closed >= Duration::from_millis(900) && closed < Duration::from_secs(4),
        "closed after {closed:?}"
    );
}

#[test]
fn the_unit_gives_the_descriptors_the_connection_cap_needs() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/alojamientos.service"
    ))
    .unwrap();
    let nofile: usize = unit
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .expect("the unit sets LimitNOFILE")
        .trim()
        .parse()
        .unwrap();
    let max = alojamientos::config::RawSettings::default()
        .server
        .max_connections;
    assert!(
        nofile >= max + 256,
        "LimitNOFILE={nofile} for max_connections {max}"
    );
}
