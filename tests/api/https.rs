//! HTTPS served by the binary: certificates from pebble (Let's Encrypt's ACME test server) on
//! loopback, issued, served, renewed, kept through pebble being down; certificate files
//! reloaded on SIGHUP; port 80 redirecting to the configured address. Skipped (with a message)
//! without pebble, unless ALOJAMIENTOS_PEBBLE_TESTS=required.

use std::net::SocketAddr;
use std::time::Duration;

use crate::helpers::free_port;
use crate::helpers::pebble::{self, Pebble, Targets};
use crate::helpers::{TestApp, eventually};
use alojamientos::config::RawSettings;
use rustls::pki_types::CertificateDer;
use serde_json::Value;

const DOMAIN: &str = "reservas.test";

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// ACME from `pebble` on the given ports, quick retries.
fn acme(raw: &mut RawSettings, pebble: &Pebble, tls_port: u16, http_port: u16) {
    let tls = &mut raw.server.tls;
    tls.listen = local(tls_port).to_string();
    tls.http_listen = local(http_port).to_string();
    tls.acme_domains = vec![DOMAIN.into()];
    tls.acme_directory = pebble.directory.clone();
    tls.acme_ca_file = Some(pebble.listener_ca.clone());
    tls.retry_base = "1s".into();
    tls.retry_max = "2s".into();
}

/// Polls `check` every 50 ms until it gives a value or `limit` passes.
async fn poll<T, Fut: std::future::Future<Output = Option<T>>>(
    limit: Duration,
    mut check: impl FnMut() -> Fut,
) -> Option<T> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(value) = check().await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Polls until `host` over HTTPS presents a certificate `roots` trust; returns its leaf.
async fn served(
    port: u16,
    host: &str,
    roots: &[CertificateDer<'static>],
) -> CertificateDer<'static> {
    poll(Duration::from_secs(30), || async {
        let r = pebble::get(local(port), host, "/api/v1/readyz", roots).await;
        r.ok().filter(|r| r.status == 200).map(|r| r.leaf)
    })
    .await
    .unwrap_or_else(|| panic!("{host} is served over HTTPS with a trusted certificate"))
}

/// The `https.certificate` part of the admin's checklist.
async fn setup_certificate(client: &reqwest::Client, base: &str, token: &str) -> Value {
    let r = client
        .get(format!("{base}/api/v1/admin/setup"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    crate::helpers::body(r).await["https"]["certificate"].clone()
}

/// The binary with ACME from the pebble at `directory` on the given ports, quick retries.
fn acme_binary(
    data: &std::path::Path,
    directory: &str,
    listener_ca: &std::path::Path,
    domains: &[&str],
    (tls_port, http_port): (u16, u16),
) -> tokio::process::Command {
    crate::helpers::binary::command_with(
        data,
        "SERVER__TLS",
        &[
            ("LISTEN", local(tls_port).to_string()),
            ("HTTP_LISTEN", local(http_port).to_string()),
            ("ACME_DOMAINS", format!("{domains:?}")),
            ("ACME_DIRECTORY", directory.to_owned()),
            ("ACME_CA_FILE", listener_ca.display().to_string()),
            ("RETRY_BASE", "1s".into()),
            ("RETRY_MAX", "2s".into()),
        ],
    )
}

async fn metric(base: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    crate::helpers::metric_value(&text, name, labels)
}

/// SIGTERM, and wait for the process to end.
async fn terminate(mut server: crate::helpers::binary::Server) {
    let pid = server.child.id().unwrap() as i32;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    server.child.wait().await.unwrap();
}

#[tokio::test]
async fn a_certificate_from_pebble_is_served_with_hsts_and_renewed_before_expiry() {
    if !pebble::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (tls_port, http_port) = (free_port(), free_port());
    // 24-second certificates: renewed a third of their life ahead, about 16 s after issue.
    let targets = Targets {
        http_port,
        tls_port,
        validity_s: 24,
    };
    let pebble = Pebble::start(dir.path(), &targets).await;
    let app = TestApp::spawn_with(|c| acme(c, &pebble, tls_port, http_port)).await;
    let roots = vec![pebble.issuing_root().await];

    let first = served(tls_port, DOMAIN, &roots).await;
    let r = pebble::get(local(tls_port), DOMAIN, "/api/v1/accommodations", &roots)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let expiry = app
        .metric("tls_certificate_expiry_timestamp_seconds", &[])
        .await;
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!(
        now < expiry && expiry <= now + 25.0,
        "expiry {expiry}, now {now}"
    );

    // Port 80 sends everything but the challenge to the configured address, whatever Host says.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://{}/admin/?x=1", local(http_port)))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.headers()["location"],
        format!("https://{DOMAIN}/admin/?x=1").as_str()
    );
    let r = plain
        .get(format!(
            "http://{}/.well-known/acme-challenge/unknown",
            local(http_port)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);

    let renewed = poll(Duration::from_secs(40), || async {
        let r = pebble::get(local(tls_port), DOMAIN, "/api/v1/readyz", &roots).await;
        r.ok().filter(|r| r.leaf != first)
    })
    .await;
    assert!(
        renewed.is_some(),
        "a new certificate is served before the first expires"
    );
    let later = app
        .metric("tls_certificate_expiry_timestamp_seconds", &[])
        .await;
    assert!(later > expiry, "the renewed certificate expires later");
    assert!(app.metric("acme_orders_total", &[("outcome", "ok")]).await >= 2.0);
    app.stop().await;
    pebble.stop().await;
}

#[tokio::test]
async fn with_pebble_down_the_stored_certificate_is_served_and_the_order_retried() {
    if !pebble::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ports = (free_port(), free_port());
    let targets = Targets {
        http_port: ports.1,
        tls_port: ports.0,
        validity_s: 3_600,
    };
    let pebble = Pebble::start(&dir.path().join("pebble"), &targets).await;
    let (directory, listener_ca) = (pebble.directory.clone(), pebble.listener_ca.clone());
    let first = acme_binary(&data, &directory, &listener_ca, &[DOMAIN], ports);
    let server = crate::helpers::binary::start_with(first).await;
    let password = server.password.clone().unwrap();
    let first_roots = vec![pebble.issuing_root().await];
    served(ports.0, DOMAIN, &first_roots).await;
    terminate(server).await;
    let setup = pebble.stop().await;

    // Restart with pebble down and a second name: the stored certificate (for the first name
    // only) is served at once while the new order fails and is retried.
    let www = format!("www.{DOMAIN}");
    let second = acme_binary(&data, &directory, &listener_ca, &[DOMAIN, &www], ports);
    let server = crate::helpers::binary::start_with(second).await;
    let r = pebble::get(local(ports.0), DOMAIN, "/api/v1/readyz", &first_roots)
        .await
        .expect("the stored certificate is served while the CA is down");
    assert_eq!(r.status, 200);
    let retried = eventually(Duration::from_secs(20), || async {
        metric(&server.base, "acme_orders_total", &[("outcome", "error")]).await >= 2.0
    })
    .await;
    assert!(retried, "failed orders are retried");
    let client = reqwest::Client::new();
    let token =
        crate::helpers::binary::login(&client, &server.base, "admin@alojamientos.local", &password)
            .await;
    let certificate = setup_certificate(&client, &server.base, &token).await;
    assert!(
        certificate["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the checklist shows the failing order: {certificate}"
    );
    assert!(certificate["not_after"].is_string(), "{certificate}");

    let pebble = Pebble::run(setup).await;
    let second_root = pebble.issuing_root().await;
    served(ports.0, &www, &[second_root]).await;
    terminate(server).await;
    pebble.stop().await;
}

/// A CA and certificates it signs for [`DOMAIN`].
struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    root: CertificateDer<'static>,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        let root = params.self_signed(&key).unwrap().der().clone();
        TestCa {
            issuer: rcgen::Issuer::new(params, key),
            root,
        }
    }

    /// (chain PEM, key PEM) of a new leaf.
    fn leaf(&self) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![DOMAIN.into()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

#[tokio::test]
async fn certificate_files_are_served_and_reloaded_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let (cert_file, key_file) = (dir.path().join("fullchain.pem"), dir.path().join("key.pem"));
    let install = |(chain, key): (String, String)| {
        std::fs::write(&cert_file, chain).unwrap();
        std::fs::write(&key_file, key).unwrap();
    };
    install(ca.leaf());
    let (tls_port, http_port) = (free_port(), free_port());
    let data = dir.path().join("data");
    let command = crate::helpers::binary::command_with(
        &data,
        "SERVER__TLS",
        &[
            ("LISTEN", local(tls_port).to_string()),
            ("HTTP_LISTEN", local(http_port).to_string()),
            ("CERT_FILE", cert_file.display().to_string()),
            ("KEY_FILE", key_file.display().to_string()),
        ],
    );
    let mut command = command;
    command.env(
        "ALOJAMIENTOS_SERVER__PUBLIC_BASE_URL",
        format!("https://{DOMAIN}:{tls_port}"),
    );
    let server = crate::helpers::binary::start_with(command).await;
    let roots = [ca.root.clone()];
    let first = served(tls_port, DOMAIN, &roots).await;

    let hangup = |child: &tokio::process::Child| {
        let pid = child.id().unwrap() as i32;
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    };
    install(ca.leaf());
    hangup(&server.child);
    let reloaded = eventually(Duration::from_secs(10), || async {
        pebble::get(local(tls_port), DOMAIN, "/api/v1/readyz", &roots)
            .await
            .is_ok_and(|r| r.leaf != first)
    })
    .await;
    assert!(reloaded, "the new files are served after SIGHUP");
    let second = served(tls_port, DOMAIN, &roots).await;

    // A broken pair is refused and the previous certificate stays.
    let client = reqwest::Client::new();
    let password = server.password.clone().unwrap();
    let token =
        crate::helpers::binary::login(&client, &server.base, "admin@alojamientos.local", &password)
            .await;
    std::fs::write(&key_file, ca.leaf().1).unwrap();
    hangup(&server.child);
    let refused = eventually(Duration::from_secs(10), || async {
        setup_certificate(&client, &server.base, &token).await["last_error"].is_string()
    })
    .await;
    assert!(refused, "the failed reload is reported");
    assert_eq!(served(tls_port, DOMAIN, &roots).await, second);

    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://{}/x", local(http_port)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("https://{DOMAIN}:{tls_port}/x").as_str()
    );
}

#[tokio::test]
async fn silent_connections_from_one_address_do_not_hold_the_handshake_slots() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let (chain, key) = ca.leaf();
    let (cert_file, key_file) = (dir.path().join("fullchain.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, chain).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let tls_port = free_port();
    let mut command = crate::helpers::binary::command_with(
        &dir.path().join("data"),
        "SERVER__TLS",
        &[
            ("LISTEN", local(tls_port).to_string()),
            ("CERT_FILE", cert_file.display().to_string()),
            ("KEY_FILE", key_file.display().to_string()),
        ],
    );
    command.env("ALOJAMIENTOS_SERVER__MAX_CONNECTIONS_PER_CLIENT", "16");
    command.env(
        "ALOJAMIENTOS_SERVER__PUBLIC_BASE_URL",
        format!("https://{DOMAIN}:{tls_port}"),
    );
    let server = crate::helpers::binary::start_with(command).await;
    // 300 connections from 127.0.0.2 that never start a handshake: more than the 256
    // handshake slots, were they not capped per client at TCP accept.
    let mut silent = Vec::new();
    for _ in 0..300 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        silent.push(socket.connect(local(tls_port)).await.unwrap());
    }
    let started = std::time::Instant::now();
    let roots = [ca.root.clone()];
    let answer = pebble::get(local(tls_port), DOMAIN, "/api/v1/readyz", &roots)
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "another client got in at once: {:?}",
        started.elapsed()
    );
    let mut closed = 0;
    for mut s in silent {
        use tokio::io::AsyncReadExt;
        let mut b = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(20), s.read(&mut b)).await
        {
            closed += 1;
        }
    }
    assert!(closed >= 300 - 16, "{closed} closed at once");
    terminate(server).await;
}
