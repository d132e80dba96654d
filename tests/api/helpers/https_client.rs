//! A small HTTPS client for tests: trusts only the roots it is given, presents a chosen name,
//! and reports the certificate the server presented.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response read whole, with the certificate the server presented.
pub struct HttpsResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub leaf: CertificateDer<'static>,
}

impl HttpsResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` over HTTPS to `addr`, presenting `host` as SNI and Host, trusting only `roots`.
pub async fn get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    roots: &[CertificateDer<'static>],
) -> Result<HttpsResponse, String> {
    request(addr, host, &format!("GET {path}"), None, roots).await
}

/// `method_path` (e.g. `POST /x`) with an optional JSON body, as [`get`].
pub async fn request(
    addr: SocketAddr,
    host: &str,
    method_path: &str,
    json: Option<&str>,
    roots: &[CertificateDer<'static>],
) -> Result<HttpsResponse, String> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).map_err(|e| e.to_string())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let name = match host.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?,
    };
    let exchange = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let leaf = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        let body = json.unwrap_or("");
        let content = match json {
            Some(_) => format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ),
            None => String::new(),
        };
        let request = format!(
            "{method_path} HTTP/1.1\r\nHost: {host}\r\n{content}Connection: close\r\n\r\n{body}"
        );
        tls.write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        // A peer that closes without close_notify (Go's HTTP server) still sent it all.
        let _ = tls.read_to_end(&mut raw).await;
        Ok::<_, String>((leaf, raw))
    };
    let (leaf, raw) = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "timed out".to_owned())??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(HttpsResponse {
        status,
        headers,
        body: body.to_owned(),
        leaf,
    })
}
