//! Test harness: the real application on 127.0.0.1:0 over a real redb file in a temp dir.

pub mod binary;
pub mod fake_feeds;
pub mod fake_graph;
pub mod fake_mp;
pub mod fake_smtp;
pub mod https_client;
pub mod pebble;
pub mod store;
pub mod webdriver;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use alojamientos::config::{RawSettings, Settings};
use alojamientos::startup::{Application, FirstAdmin};
use jiff::ToSpan;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A loopback port nobody listens on right now, for a process that must be told its port
/// before it starts (pebble, the server's TLS ports, the RUNBOOK drill). It is chosen below
/// the kernel's ephemeral range: a port from that range (what port-0 listeners of the tests
/// running alongside get, and the source port of every outgoing connection) could be taken
/// between this check and the process's own bind. One CI run lost a server that way, we think
/// ("exited before listening", with no log then to say why).
pub fn free_port() -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral / 2);
    loop {
        let port = rand::random_range(low..ephemeral);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub client: Client,
    pub admin_email: String,
    pub admin_password: String,
    pub admin_token: String,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Test defaults: port 0, no rate limit and no hold limits (tests take many holds from one
/// phone on 127.0.0.1; `tests/api/sec` turns them on), no per-client connection cap, feeds
/// from private addresses (the fake feed servers are on loopback), hold-expiry job every
/// second, quiet logs.
pub fn test_settings(dir: &std::path::Path) -> RawSettings {
    let mut raw = RawSettings::default();
    raw.server.listen = "127.0.0.1:0".into();
    raw.server.data_dir = dir.to_owned();
    raw.rate_limit.enabled = false;
    raw.holds.per_phone = 0;
    raw.holds.per_address = 0;
    raw.holds.max_nights = 0;
    raw.holds.max_share_percent = 100;
    // The fake feed servers listen on 127.0.0.1.
    raw.ical.allow_private_addresses = true;
    // Tests fire hundreds of concurrent requests from 127.0.0.1 (`tests/api/sec` sets 64).
    raw.server.max_connections_per_client = raw.server.max_connections;
    raw.jobs.expire_holds = "* * * * * *".into();
    raw.log.filter = "warn".into();
    raw
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut RawSettings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = test_settings(dir.path());
        configure(&mut raw);
        Self::start(raw.validate().unwrap(), dir).await
    }

    /// Starts on settings prepared by the caller, in a directory it may have filled first.
    pub async fn spawn_in(raw: RawSettings, dir: TempDir) -> TestApp {
        Self::start(raw.validate().unwrap(), dir).await
    }

    /// Stops the server, lets `offline` work on the data directory while the store is closed,
    /// and starts it again there (with the same admin) on the test settings `configure` changes.
    pub async fn restart(
        self,
        offline: impl FnOnce(&std::path::Path),
        configure: impl FnOnce(&mut RawSettings),
    ) -> TestApp {
        let admin = FirstAdmin {
            email: self.admin_email.clone(),
            password: self.admin_password.clone(),
        };
        let dir = self.stop().await;
        let file = dir.path().join(alojamientos::store::STORE_FILE);
        let closed = || async {
            !matches!(
                redb::Database::open(&file),
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
            )
        };
        assert!(
            eventually(Duration::from_secs(10), closed).await,
            "the stopped server lets go of its store"
        );
        offline(dir.path());
        let mut raw = test_settings(dir.path());
        configure(&mut raw);
        let app = Application::build(raw.validate().unwrap(), false)
            .await
            .unwrap();
        Self::serve(app, dir, admin).await
    }

    async fn start(settings: Settings, dir: TempDir) -> TestApp {
        let app = Application::build(settings, false).await.unwrap();
        let admin = app
            .first_admin
            .clone()
            .expect("a new store creates the first admin");
        Self::serve(app, dir, admin).await
    }

    async fn serve(app: Application, dir: TempDir, admin: FirstAdmin) -> TestApp {
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut test = TestApp {
            addr,
            metrics_addr,
            client,
            admin_email: admin.email,
            admin_password: admin.password,
            admin_token: String::new(),
            dir,
            stop: Some(stop),
            server: Some(server),
        };
        test.admin_token = test.login().await;
        test
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn login(&self) -> String {
        let r = self
            .client
            .post(self.url("/api/v1/admin/login"))
            .json(&json!({"email": self.admin_email, "password": self.admin_password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// An admin action on a reservation: `confirm`, `cancel`, `no-show`.
    pub async fn act(&self, code: &str, action: &str, body: Value) -> Response {
        self.admin_post(&format!("/api/v1/admin/reservations/{code}/{action}"), body)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an accommodation (base 12000, weekend ×1.5 by default) and returns its id.
    pub async fn accommodation(&self, extra: Value) -> u64 {
        let mut body = json!({"name": "Cabaña Test", "kind": "cabin", "capacity": 4, "base_price": "12000", "weekend_multiplier": "1.5"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.admin_post("/api/v1/admin/accommodations", body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    /// Takes a hold through the public API.
    pub async fn reserve(
        &self,
        accommodation_id: u64,
        check_in: &str,
        check_out: &str,
    ) -> Response {
        self.post(
            "/api/v1/reservations",
            reserve_body(accommodation_id, check_in, check_out),
        )
        .await
    }

    /// The metric's value summed over series whose labels contain every `labels` pair.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        metric_value(&text, name, labels)
    }
}

/// Whether an optional test tool is installed (`found`). Without it the caller skips, saying so,
/// unless the environment variable `env` is `required` (`.ci/run` sets it): then it fails.
pub fn tool_present(found: bool, env: &str, what: &str) -> bool {
    if !found {
        let required = std::env::var(env).is_ok_and(|v| v == "required");
        assert!(!required, "{what} is required ({env}) but not installed");
        eprintln!("SKIPPED: {what} is not installed (apt-get install; .ci/run does)");
    }
    found
}

pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub fn reserve_body(accommodation_id: u64, check_in: &str, check_out: &str) -> Value {
    json!({
        "accommodation_id": accommodation_id,
        "check_in": check_in,
        "check_out": check_out,
        "guests": 2,
        "contact_name": "Ana Pérez",
        "contact_phone": "+54 9 11 2233-4455",
        "contact_email": "ana@example.com"
    })
}

/// A date `days` from today at the property, as `yyyy-mm-dd`.
pub fn day(days: i64) -> String {
    let tz = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap();
    let today = tz.to_datetime(jiff::Timestamp::now()).date();
    today.checked_add(days.days()).unwrap().to_string()
}

/// Polls `check` every 50 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

pub async fn body(r: Response) -> Value {
    r.json().await.unwrap()
}
