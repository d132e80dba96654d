//! Shared by the crash loop and the soak: the real binary wired to fake providers on 127.0.0.1
//! (Mercado Pago, the WhatsApp Graph API, an SMTP server, an OTA calendar), and a mixed load of
//! guests and the host whose every acknowledged write goes into a [`Ledger`].

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::binary::{BIN, Server, start_with};
use crate::helpers::fake_feeds::FakeFeeds;
use crate::helpers::fake_graph::{self, FakeGraph};
use crate::helpers::fake_mp::{self, FakeMp};
use crate::helpers::fake_smtp::FakeSmtp;

/// The guest phones WhatsApp messages come from start here (plus a counter).
/// Accommodations the holds walk, night after night; the one after them has the OTA feed.
pub const LANES: usize = 6;

pub const FIRST_GUEST_PHONE: u64 = 5491140000000;
/// Where the host gets WhatsApp notices.
pub const HOST_PHONE: &str = "5491155550001";
pub const HOST_EMAIL: &str = "host@cabanas.test";
/// Days from today of the events the fake OTA calendar lists (far from the load's dates).
pub const FEED_EVENTS: [(i64, i64); 3] = [(700, 703), (710, 714), (720, 721)];

/// The fake providers, alive across the server's restarts.
pub struct World {
    pub mp: FakeMp,
    pub graph: FakeGraph,
    pub smtp: FakeSmtp,
    pub feeds: FakeFeeds,
    pub client: Client,
}

impl World {
    pub async fn start() -> World {
        let feeds = FakeFeeds::start().await;
        let events: String = FEED_EVENTS
            .iter()
            .enumerate()
            .map(|(i, (from, to))| {
                format!(
                    "BEGIN:VEVENT\r\nUID:ota-{i}@airbnb.com\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n",
                    ymd(*from),
                    ymd(*to)
                )
            })
            .collect();
        let calendar = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ota//EN\r\n{events}END:VCALENDAR\r\n"
        );
        feeds.calendar("/ota.ics", &calendar, None);
        World {
            mp: FakeMp::start().await,
            graph: FakeGraph::start().await,
            smtp: FakeSmtp::start().await,
            feeds,
            client: Client::builder()
                .timeout(Duration::from_secs(20))
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        }
    }

    /// The server's configuration: every provider pointed at its fake, quick outbox sweeps,
    /// no scheduled reconciliation, feed sync or backup (the load asks for them).
    pub fn settings(&self, dir: &Path) -> Vec<(String, String)> {
        let never = "0 0 0 1 1 *".to_owned();
        let pairs: Vec<(&str, String)> = vec![
            ("SERVER__DATA_DIR", dir.display().to_string()),
            ("SERVER__LISTEN", "127.0.0.1:0".into()),
            ("RATE_LIMIT__ENABLED", "false".into()),
            // One load generator on 127.0.0.1 plays every guest: the per-client bounds are off.
            ("SERVER__MAX_CONNECTIONS_PER_CLIENT", "1024".into()),
            ("HOLDS__PER_PHONE", "0".into()),
            ("HOLDS__PER_ADDRESS", "0".into()),
            ("HOLDS__MAX_NIGHTS", "0".into()),
            ("HOLDS__MAX_SHARE_PERCENT", "100".into()),
            // The fake OTA calendar is on loopback.
            ("ICAL__ALLOW_PRIVATE_ADDRESSES", "true".into()),
            ("LOG__FILTER", "error".into()),
            ("MERCADOPAGO__API_BASE_URL", self.mp.url()),
            ("MERCADOPAGO__ACCESS_TOKEN", fake_mp::TOKEN.into()),
            (
                "MERCADOPAGO__WEBHOOK_SECRET",
                fake_mp::WEBHOOK_SECRET.into(),
            ),
            ("MERCADOPAGO__INBOX_SWEEP", "100ms".into()),
            ("MERCADOPAGO__RECONCILE", never.clone()),
            ("WHATSAPP__API_BASE_URL", self.graph.url()),
            ("WHATSAPP__API_VERSION", fake_graph::VERSION.into()),
            ("WHATSAPP__PHONE_NUMBER_ID", fake_graph::PHONE_ID.into()),
            ("WHATSAPP__ACCESS_TOKEN", fake_graph::TOKEN.into()),
            ("WHATSAPP__APP_SECRET", fake_graph::APP_SECRET.into()),
            ("WHATSAPP__HOST_PHONE", HOST_PHONE.into()),
            ("WHATSAPP__OUTBOX_SWEEP", "50ms".into()),
            ("WHATSAPP__RETRY_BASE", "10ms".into()),
            ("WHATSAPP__RETRY_CAP", "100ms".into()),
            ("EMAIL__SMTP_HOST", "127.0.0.1".into()),
            ("EMAIL__SMTP_PORT", self.smtp.port().to_string()),
            ("EMAIL__TLS", "none".into()),
            ("EMAIL__FROM", "Cabañas Test <reservas@cabanas.test>".into()),
            ("EMAIL__HOST_ADDRESS", HOST_EMAIL.into()),
            ("EMAIL__OUTBOX_SWEEP", "50ms".into()),
            ("EMAIL__RETRY_BASE", "10ms".into()),
            ("EMAIL__RETRY_CAP", "100ms".into()),
            ("ICAL__CHECK_SCHEDULE", never.clone()),
            ("BACKUP__SCHEDULE", never),
            ("BACKUP__KEEP", "3".into()),
        ];
        pairs
            .into_iter()
            .map(|(k, v)| (format!("ALOJAMIENTOS_{k}"), v))
            .collect()
    }

    /// Starts the binary on `dir` and waits until it listens.
    pub async fn serve(&self, dir: &Path) -> Server {
        self.serve_with(dir, &[]).await
    }

    /// [`World::serve`] with more `ALOJAMIENTOS_*` settings.
    pub async fn serve_with(&self, dir: &Path, extra: &[(&str, &str)]) -> Server {
        let mut command = tokio::process::Command::new(BIN);
        command
            .env_clear()
            .envs(self.settings(dir))
            .envs(extra.iter().map(|(k, v)| (format!("ALOJAMIENTOS_{k}"), *v)))
            .kill_on_drop(true);
        start_with(command).await
    }

    /// Creates the accommodations (the load's [`LANES`], then one with the import feed) on a
    /// new store; returns the units.
    pub async fn set_up(&self, base: &str, token: &str) -> Vec<u64> {
        let mut units = Vec::new();
        for i in 0..=LANES {
            let r = self
                .client
                .post(format!("{base}/api/v1/admin/accommodations"))
                .bearer_auth(token)
                .json(&json!({"name": format!("Cabaña {i}"), "kind": "cabin", "capacity": 4, "base_price": "10000"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            units.push(r.json::<Value>().await.unwrap()["id"].as_u64().unwrap());
        }
        let r = self
            .client
            .post(format!(
                "{base}/api/v1/admin/accommodations/{}/feeds",
                units[LANES]
            ))
            .bearer_auth(token)
            .json(&json!({"url": self.feeds.url("/ota.ics"), "source": "airbnb"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        units
    }
}

impl World {
    /// `GET base + path` as the admin, parsed as JSON.
    pub async fn admin_json(&self, base: &str, path: &str, token: &str) -> Value {
        self.client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn ymd(days: i64) -> String {
    crate::helpers::day(days).replace('-', "")
}

/// Resident memory (bytes), open file descriptors and how many of them are sockets, of
/// process `pid`.
pub fn process_usage(pid: u32) -> Option<(u64, usize, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let (mut fds, mut sockets) = (0, 0);
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        fds += 1;
        let target = std::fs::read_link(fd.path()).unwrap_or_default();
        sockets += usize::from(target.to_string_lossy().starts_with("socket:"));
    }
    Some((rss_kb * 1024, fds, sockets))
}
