//! Connection caps, and what a stop does to connections at each stage of their life.

use super::*;

fn limits(max: usize, per_client: usize) -> Arc<Connections> {
    Connections::new(
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(1),
            body_read_timeout: Duration::from_secs(1),
            keep_alive_timeout: Duration::from_secs(1),
            max_connections: max,
            max_connections_per_client: per_client,
        },
        vec!["10.0.0.1".parse().unwrap()],
    )
}

#[test]
fn caps_per_client_network_and_overall_and_slots_come_back() {
    let c = limits(5, 2);
    let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2::2".parse().unwrap();
    let first = c.admit(a).unwrap();
    let _second = c.admit(b).unwrap();
    assert_eq!(c.admit(a).err(), Some(Rejected::PerClient), "same /64");
    drop(first);
    let _third = c.admit(a).unwrap();
    let proxy: IpAddr = "10.0.0.1".parse().unwrap();
    let _p1 = c.admit(proxy).unwrap();
    let _p2 = c.admit(proxy).unwrap();
    let _p3 = c.admit(proxy).unwrap();
    assert_eq!(c.open(), 5);
    assert_eq!(
        c.admit("203.0.113.1".parse().unwrap()).err(),
        Some(Rejected::Global)
    );
}

/// `serve` on 127.0.0.1:0 with a one-route router, and the switch that stops it.
struct Served {
    addr: SocketAddr,
    connections: Arc<Connections>,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

async fn serve_hola() -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Connections::new(
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(10),
            max_connections: 16,
            max_connections_per_client: 16,
        },
        Vec::new(),
    );
    let router = Router::new().route("/", axum::routing::get(|| async { "hola" }));
    let (stop, stopped) = watch::channel(false);
    let done = tokio::spawn(serve(
        listener,
        router,
        Admission::Here(connections.clone()),
        stopped,
    ));
    Served {
        addr,
        connections,
        stop,
        done,
    }
}

impl Served {
    /// Connects and waits until the server has taken the connection.
    async fn connect(&self) -> tokio::net::TcpStream {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.connections.open() == 0 {
            assert!(Instant::now() < deadline, "the connection was not taken");
            tokio::task::yield_now().await;
        }
        stream
    }

    /// Stops the server and waits until `serve` returns; how long that took.
    async fn stop_and_wait(self) -> Duration {
        let started = Instant::now();
        self.stop().await;
        tokio::time::timeout(Duration::from_secs(5), self.done)
            .await
            .expect("serve returns within 5 s")
            .unwrap();
        started.elapsed()
    }

    /// Stops the server and lets every connection task act on it (the test runs on one
    /// thread, so yielding runs them).
    async fn stop(&self) {
        self.stop.send(true).unwrap();
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    }
}

async fn read_all(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text).await;
    String::from_utf8_lossy(&text).into_owned()
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n";

#[tokio::test]
async fn a_request_sent_just_after_a_stop_on_a_connection_made_before_it_is_answered() {
    use tokio::io::AsyncWriteExt;
    let served = serve_hola().await;
    let mut stream = served.connect().await;
    served.stop().await;
    stream.write_all(GET).await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.ends_with("hola"), "{answer:?}");
    tokio::time::timeout(Duration::from_secs(5), served.done)
        .await
        .expect("serve returns once the connection is answered")
        .unwrap();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_holds_a_stop_only_for_the_first_request_grace() {
    let served = serve_hola().await;
    let mut stream = served.connect().await;
    assert!(served.stop_and_wait().await >= FIRST_REQUEST_GRACE);
    assert_eq!(read_all(&mut stream).await, "", "closed without an answer");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_once_on_a_stop() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let served = serve_hola().await;
    let mut stream = served.connect().await;
    stream.write_all(GET).await.unwrap();
    let mut answer = Vec::new();
    while !answer.ends_with(b"hola") {
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let waited = served.stop_and_wait().await;
    assert!(waited < FIRST_REQUEST_GRACE, "waited {waited:?}");
    assert_eq!(read_all(&mut stream).await, "");
}
