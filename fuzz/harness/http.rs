//! Targets that go through the real application: one server per process (demo accommodations,
//! a store in a scratch directory, no outbound provider configured so nothing leaves the
//! machine), reached over HTTP on 127.0.0.1 like any client. A 5xx answer is a finding.

use std::sync::OnceLock;
use std::time::Duration;

use alojamientos::config::RawSettings;
use alojamientos::startup::Application;

/// The webhook secrets the harness server is configured with.
pub const MP_SECRET: &str = "fuzz-mp-secret";
pub const WA_SECRET: &str = "fuzz-wa-secret";

pub struct Server {
    pub base: String,
    pub admin_token: String,
    agent: ureq::Agent,
}

/// A directory for the harness store: RAM-backed when the machine has `/dev/shm` (fsyncs are
/// then nearly free and the fuzzer runs faster).
fn scratch_dir() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let nonce: u64 = rand::random();
    base.join(format!(
        "alojamientos-fuzz-{}-{nonce:016x}",
        std::process::id()
    ))
}

/// Removes the stores of harness processes that are gone (a fuzzer or test exits without
/// shutting its server down).
fn remove_stale_stores(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("alojamientos-fuzz-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The server the targets talk to: one started elsewhere ([`connect`]) or, on first use, one
/// in this process.
static SERVER: OnceLock<Server> = OnceLock::new();

/// The settings a harness server needs, as `ALOJAMIENTOS_*` variables, for one started as a
/// separate process: the webhook secrets, and no scheduled feed sync.
pub const SERVER_ENV: [(&str, &str); 3] = [
    ("ALOJAMIENTOS_MERCADOPAGO__WEBHOOK_SECRET", MP_SECRET),
    ("ALOJAMIENTOS_WHATSAPP__APP_SECRET", WA_SECRET),
    ("ALOJAMIENTOS_ICAL__CHECK_SCHEDULE", "0 0 0 1 1 *"),
];

/// Points the targets at a server started elsewhere with [`SERVER_ENV`] and at least three
/// accommodations (the replay in `cargo test` uses the real binary, so its requests do not
/// touch the test process's metrics). Does nothing once a server is chosen.
pub fn connect(base: &str, email: &str, password: &str) {
    let _ = SERVER.set(Server::login(base.to_owned(), email, password));
}

/// The harness server, started in this process on first use unless [`connect`] chose one.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let dir = scratch_dir();
        remove_stale_stores(dir.parent().unwrap());
        let mut raw = RawSettings::default();
        raw.server.listen = "127.0.0.1:0".into();
        raw.server.data_dir = dir;
        raw.rate_limit.enabled = false;
        raw.log.filter = "off".into();
        raw.mercadopago.webhook_secret = MP_SECRET.into();
        raw.whatsapp.app_secret = WA_SECRET.into();
        raw.ical.check_schedule = "0 0 0 1 1 *".into();
        let settings = raw.validate().expect("harness settings");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Application::build(settings, true).await.unwrap();
                let admin = app.first_admin.clone().unwrap();
                tx.send((app.local_addr(), admin)).unwrap();
                app.run(std::future::pending()).await.unwrap();
            });
        });
        let (addr, admin) = rx.recv().unwrap();
        Server::login(format!("http://{addr}"), &admin.email, &admin.password)
    })
}

impl Server {
    fn login(base: String, email: &str, password: &str) -> Server {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let login = serde_json::json!({"email": email, "password": password});
        let mut r = agent
            .post(format!("{base}/api/v1/admin/login"))
            .header("content-type", "application/json")
            .send(login.to_string())
            .unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        Server {
            base,
            admin_token: body["token"].as_str().unwrap().to_owned(),
            agent,
        }
    }
}

/// What the server answered: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Server {
    /// Sends a request; `headers` are skipped when not valid header values.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder().method(method).uri(&url);
        let request =
            headers.iter().fold(
                request,
                |r, (k, v)| match ureq::http::HeaderValue::from_str(v) {
                    Ok(value) => r.header(*k, value),
                    Err(_) => r,
                },
            );
        let Ok(request) = request.body(body.to_vec()) else {
            return Answer {
                status: 400,
                body: String::new(),
            };
        };
        match self.agent.run(request) {
            Ok(mut r) => Answer {
                status: r.status().as_u16(),
                body: r.body_mut().read_to_string().unwrap_or_default(),
            },
            Err(e) => panic!("the server did not answer {method} {path}: {e}"),
        }
    }
}

/// `raw` made a valid URI query the way a client library would send it: bytes that may not
/// stand in a query are percent-encoded (an HTTP parser refuses them before the app sees the
/// request, with an empty 400 that is not ours to shape).
fn query(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An error answer is the stable JSON shape `{"error": "<code>", "detail": …}`.
fn assert_json_error(answer: &Answer, what: &str) {
    let parsed: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_else(|_| {
        panic!(
            "{what}: {} with a non-JSON body {:?}",
            answer.status, answer.body
        )
    });
    assert!(parsed["error"].is_string(), "{what}: {}", answer.body);
}

/// Public and admin JSON bodies through the real handlers. Input: an endpoint word on the
/// first line, the body after it. Never a 5xx; every 4xx is a JSON error with a stable code.
pub fn json_bodies(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (word, body) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let server = server();
    let admin = format!("Bearer {}", server.admin_token);
    let query = query(&String::from_utf8_lossy(body));
    let (method, path, auth): (&str, String, bool) = match word {
        b"prereserve" => ("POST", "/api/v1/reservations/pre-reserve".into(), false),
        b"admin_reserve" => ("POST", "/api/v1/admin/reservations".into(), true),
        b"accommodation" => ("POST", "/api/v1/admin/accommodations".into(), true),
        b"update" => ("PUT", "/api/v1/admin/accommodations/1".into(), true),
        b"block" => ("POST", "/api/v1/admin/blocks".into(), true),
        b"nlu" => ("POST", "/api/v1/nlu/analyze".into(), true),
        b"login" => ("POST", "/api/v1/admin/login".into(), false),
        b"cancel" => (
            "POST",
            "/api/v1/admin/reservations/RES000000000000/cancel".into(),
            true,
        ),
        b"quote" => (
            "GET",
            format!("/api/v1/accommodations/1/quote?{query}"),
            false,
        ),
        b"availability" => (
            "GET",
            format!("/api/v1/accommodations/2/availability?{query}"),
            false,
        ),
        b"list" => ("GET", format!("/api/v1/admin/reservations?{query}"), true),
        _ => ("POST", "/api/v1/reservations".into(), false),
    };
    let mut headers = vec![("content-type", "application/json")];
    if auth {
        headers.push(("authorization", &admin));
    }
    let body = if method == "GET" { &[][..] } else { body };
    let answer = server.send(method, &path, &headers, body);
    assert!(
        answer.status < 500,
        "{method} {path}: {} {}",
        answer.status,
        answer.body
    );
    if answer.status >= 400 {
        assert_json_error(&answer, &path);
    }
}

/// Mercado Pago notifications through the real endpoint (see [`super::mp_webhook`] for the
/// input): answered 200, 400 or 401 with a JSON body, never 5xx.
pub fn mp_webhook(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let mut parts = input.splitn(4, '\n');
    let (query, rid, header, body) = (
        query(parts.next().unwrap_or("")),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let header = if header == "sign" {
        let now = jiff::Timestamp::now().as_second().to_string();
        let id = super::query_value(&query, "data.id");
        let manifest =
            alojamientos::http::webhook_signature::manifest(id.as_deref(), Some(rid), &now);
        let v1 = alojamientos::secret::hmac_sha256_hex(MP_SECRET.as_bytes(), manifest.as_bytes());
        format!("ts={now},v1={v1}")
    } else {
        header.to_owned()
    };
    let path = format!("/api/v1/webhooks/mercadopago?{query}");
    let headers = [
        ("x-signature", header.as_str()),
        ("x-request-id", rid),
        ("content-type", "application/json"),
    ];
    let answer = server().send("POST", &path, &headers, body.as_bytes());
    assert!(
        matches!(answer.status, 200 | 400 | 401 | 422),
        "{path}: {} {}",
        answer.status,
        answer.body
    );
    assert!(answer.status == 200 || answer.body.contains("\"error\""));
}

/// WhatsApp events through the real endpoint. Input: a first byte `s` to sign the rest with
/// the app secret (anything else sends it with a wrong signature), the body after it. Answered
/// 200, 400 or 401, never 5xx; signed messages are recorded and answered by the real worker.
pub fn wa_webhook(data: &[u8]) {
    let (sign, body) = match data.split_first() {
        Some((b's', rest)) => (true, rest),
        Some((_, rest)) => (false, rest),
        None => (false, &[][..]),
    };
    let signature = if sign {
        format!(
            "sha256={}",
            alojamientos::secret::hmac_sha256_hex(WA_SECRET.as_bytes(), body)
        )
    } else {
        "sha256=00".to_owned()
    };
    let headers = [
        ("x-hub-signature-256", signature.as_str()),
        ("content-type", "application/json"),
    ];
    let answer = server().send("POST", "/api/v1/webhooks/whatsapp", &headers, body);
    assert!(
        matches!(answer.status, 200 | 400 | 401),
        "{} {}",
        answer.status,
        answer.body
    );
    assert!(!sign || answer.status != 401, "a signed event was refused");
}
