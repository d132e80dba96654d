//! config/Caddyfile, as shipped, in front of the real application on loopback: Caddy's own
//! local CA certifies the site, it forwards with X-Forwarded-Proto (the admin cookie becomes
//! Secure), adds HSTS and redirects port 80. Skipped (with a message) without caddy, unless
//! ALOJAMIENTOS_CADDY_TESTS=required.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::free_port;
use crate::helpers::https_client::{self, HttpsResponse};
use crate::helpers::{TestApp, eventually};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

fn caddy_available() -> bool {
    let found = Path::new("/usr/bin/caddy").is_file();
    crate::helpers::tool_present(found, "ALOJAMIENTOS_CADDY_TESTS", "caddy")
}

fn cookie_is_secure(r: &HttpsResponse) -> bool {
    r.header("set-cookie")
        .is_some_and(|c| c.split(';').any(|part| part.trim() == "Secure"))
}

#[tokio::test]
async fn the_shipped_caddyfile_terminates_https_and_forwards_the_scheme() {
    if !caddy_available() {
        return;
    }
    let (https_port, http_port) = (free_port(), free_port());
    let site = format!("localhost:{https_port}");
    let app = TestApp::spawn_with(|c| {
        c.server.trusted_proxies = vec!["127.0.0.1".into()];
        c.server.public_base_url = format!("https://{site}");
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("caddy");
    // Test-only global options first (loopback ports, Caddy's local CA, no admin endpoint),
    // then the shipped file with only the domain and the upstream address replaced.
    let global = format!(
        "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {http_port}\n\t\
         https_port {https_port}\n\tstorage file_system {}\n}}\n",
        storage.display()
    );
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/Caddyfile")).unwrap();
    assert!(shipped.contains("reservas.example.com.ar") && shipped.contains("127.0.0.1:8080"));
    let caddyfile = dir.path().join("Caddyfile");
    let body = shipped
        .replace("reservas.example.com.ar", &site)
        .replace("127.0.0.1:8080", &app.addr.to_string());
    std::fs::write(&caddyfile, format!("{global}{body}")).unwrap();
    let mut caddy = tokio::process::Command::new("/usr/bin/caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&caddyfile)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let https = SocketAddr::from(([127, 0, 0, 1], https_port));
    let root_file = storage.join("pki/authorities/local/root.crt");
    let issued = eventually(Duration::from_secs(30), || async { root_file.is_file() }).await;
    assert!(issued, "Caddy makes its local CA");
    let roots = vec![CertificateDer::from_pem_file(&root_file).unwrap()];
    let up = eventually(Duration::from_secs(30), || async {
        https_client::get(https, "localhost", "/api/v1/readyz", &roots)
            .await
            .is_ok_and(|r| r.status == 200)
    })
    .await;
    assert!(up, "Caddy serves the app over HTTPS with its local CA");

    let r = https_client::get(https, "localhost", "/api/v1/readyz", &roots)
        .await
        .unwrap();
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );

    // Host is localhost either way; only X-Forwarded-Proto from Caddy (a trusted proxy) tells
    // the app the browser used HTTPS, so the session cookie must be Secure through Caddy and
    // not on the direct loopback request.
    let login = format!(
        r#"{{"email":"{}","password":"{}"}}"#,
        app.admin_email, app.admin_password
    );
    let proxied = https_client::request(
        https,
        "localhost",
        "POST /api/v1/admin/session",
        Some(&login),
        &roots,
    )
    .await
    .unwrap();
    assert_eq!(proxied.status, 200, "{}", proxied.body);
    assert!(cookie_is_secure(&proxied), "{:?}", proxied.headers);
    let direct = app
        .client
        .post(app.url("/api/v1/admin/session"))
        .header("content-type", "application/json")
        .body(login)
        .send()
        .await
        .unwrap();
    let cookie = direct.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");

    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://localhost:{http_port}/admin/"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    // (Caddy leaves a non-standard HTTPS port out of its redirect; production uses 443.)
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://localhost") && location.ends_with("/admin/"),
        "{location}"
    );
    caddy.start_kill().unwrap();
    let _ = caddy.wait().await;
}
