//! `[server.tls]`: HTTPS with a certificate from an ACME CA (Let's Encrypt by default) or from
//! files, port 80 redirecting to HTTPS, and HSTS. Also `server.public_base_url`, the address
//! every public link and webhook URL is built from.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, duration, invalid};

/// Let's Encrypt's production directory (the default; its staging directory, for trials, is
/// `https://acme-staging-v02.api.letsencrypt.org/directory`).
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `[server.tls]` as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub listen: String,
    pub http_listen: String,
    pub acme_domains: Vec<String>,
    pub acme_email: String,
    pub acme_directory: String,
    pub acme_challenge: String,
    pub acme_ca_file: Option<PathBuf>,
    pub renew_before: String,
    pub retry_base: String,
    pub retry_max: String,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub hsts_max_age: String,
}

impl Default for TlsSection {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:443".into(),
            http_listen: "0.0.0.0:80".into(),
            acme_domains: vec![],
            acme_email: String::new(),
            acme_directory: LETS_ENCRYPT.into(),
            acme_challenge: "http-01".into(),
            acme_ca_file: None,
            renew_before: "30d".into(),
            retry_base: "2m".into(),
            retry_max: "6h".into(),
            cert_file: None,
            key_file: None,
            hsts_max_age: "365d".into(),
        }
    }
}

/// How the CA checks that we control a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// A token served at `http://DOMAIN/.well-known/acme-challenge/` (port 80).
    Http01,
    /// A self-signed certificate presented on port 443 to the ALPN protocol `acme-tls/1`.
    TlsAlpn01,
}

/// Certificates from an ACME CA.
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    pub domains: Vec<String>,
    pub email: Option<String>,
    pub directory: String,
    pub challenge: Challenge,
    /// PEM roots trusted for the directory's own HTTPS instead of the public ones (a private
    /// or test CA such as pebble).
    pub ca_file: Option<PathBuf>,
    /// Renew when this much (or a third of the certificate's lifetime, if less) is left.
    pub renew_before: Duration,
    /// After a failed order, retry after `retry_base`, doubling up to `retry_max` (jittered).
    pub retry_base: Duration,
    pub retry_max: Duration,
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    Acme(AcmeSettings),
    /// PEM files (chain and key), read at start and on SIGHUP.
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

/// Validated `[server.tls]`.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// `None`: no HTTPS (plain HTTP on `server.listen` only, e.g. behind a proxy).
    pub source: Option<CertSource>,
    /// HTTPS address, unless systemd passes a socket named `https`.
    pub listen: SocketAddr,
    /// Port-80 address (redirects, HTTP-01), unless systemd passes one named `http`.
    pub http_listen: Option<SocketAddr>,
    /// `Strict-Transport-Security` max-age; zero = no header.
    pub hsts_max_age: Duration,
}

fn address(key: &'static str, text: &str) -> Result<Option<SocketAddr>, ConfigError> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| invalid(key, format!("{t:?} is not an address like 0.0.0.0:443"))),
    }
}

/// A DNS name a public CA can certify with HTTP-01 or TLS-ALPN-01 (no wildcard, no IP).
fn domain_name(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

impl TlsSection {
    /// Checks every value and converts it to its typed form.
    pub fn validate(self) -> Result<TlsSettings, ConfigError> {
        let TlsSection {
            listen,
            http_listen,
            acme_domains,
            acme_email,
            acme_directory,
            acme_challenge,
            acme_ca_file,
            renew_before,
            retry_base,
            retry_max,
            cert_file,
            key_file,
            hsts_max_age,
        } = self;
        let listen = address("server.tls.listen", &listen)?
            .ok_or_else(|| invalid("server.tls.listen", "must not be empty"))?;
        let http_listen = address("server.tls.http_listen", &http_listen)?;
        let hsts_max_age = duration("server.tls.hsts_max_age", &hsts_max_age)?;
        let domains: Vec<String> = acme_domains
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        if let Some(bad) = domains.iter().find(|d| !domain_name(d)) {
            return Err(invalid(
                "server.tls.acme_domains",
                format!("{bad:?} is not a DNS name such as reservas.example.com.ar (no wildcards)"),
            ));
        }
        let source = match (domains.is_empty(), cert_file, key_file) {
            (true, None, None) => None,
            (false, None, None) => {
                let text = AcmeText {
                    directory: acme_directory,
                    challenge: acme_challenge,
                    ca_file: acme_ca_file,
                    renew_before,
                    retry_base,
                    retry_max,
                };
                Some(CertSource::Acme(acme(acme_email, domains, text)?))
            }
            (true, Some(cert), Some(key)) => Some(CertSource::Files { cert, key }),
            (true, _, _) => {
                return Err(invalid(
                    "server.tls.cert_file",
                    "cert_file and key_file go together",
                ));
            }
            (false, _, _) => {
                return Err(invalid(
                    "server.tls.acme_domains",
                    "set either acme_domains (automatic certificates) or cert_file and key_file, not both",
                ));
            }
        };
        if let Some(CertSource::Acme(a)) = &source
            && a.challenge == Challenge::Http01
            && http_listen.is_none()
        {
            return Err(invalid(
                "server.tls.http_listen",
                "the http-01 challenge needs port 80: set http_listen or acme_challenge = \"tls-alpn-01\"",
            ));
        }
        Ok(TlsSettings {
            source,
            listen,
            http_listen,
            hsts_max_age,
        })
    }
}

/// The ACME keys as written, before validation.
struct AcmeText {
    directory: String,
    challenge: String,
    ca_file: Option<PathBuf>,
    renew_before: String,
    retry_base: String,
    retry_max: String,
}

fn acme(email: String, domains: Vec<String>, t: AcmeText) -> Result<AcmeSettings, ConfigError> {
    let directory = t.directory.trim().to_owned();
    if !directory.starts_with("https://") || directory.contains(' ') {
        return Err(invalid(
            "server.tls.acme_directory",
            format!("{directory:?} is not an https URL"),
        ));
    }
    let email = match email.trim() {
        "" => None,
        e => Some(
            crate::domain::contact::normalize_email(e)
                .ok_or_else(|| invalid("server.tls.acme_email", "is not an email address"))?,
        ),
    };
    let challenge = match t.challenge.as_str() {
        "http-01" => Challenge::Http01,
        "tls-alpn-01" => Challenge::TlsAlpn01,
        other => {
            return Err(invalid(
                "server.tls.acme_challenge",
                format!("{other:?} must be http-01 or tls-alpn-01"),
            ));
        }
    };
    let retry_base = duration("server.tls.retry_base", &t.retry_base)?;
    let retry_max = duration("server.tls.retry_max", &t.retry_max)?;
    if retry_base.is_zero() || retry_max < retry_base {
        return Err(invalid(
            "server.tls.retry_max",
            "retry_base must be above zero and retry_max at least retry_base",
        ));
    }
    Ok(AcmeSettings {
        domains,
        email,
        directory,
        challenge,
        ca_file: t.ca_file,
        renew_before: duration("server.tls.renew_before", &t.renew_before)?,
        retry_base,
        retry_max,
    })
}

/// `server.public_base_url`, or `https://` + the first ACME domain.
pub fn public_base_url(text: &str, tls: &TlsSettings) -> Result<Option<String>, ConfigError> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Ok(match &tls.source {
            Some(CertSource::Acme(a)) => Some(format!("https://{}", a.domains[0])),
            _ => None,
        });
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    if tls.source.is_some() && !text.starts_with("https://") {
        return Err(invalid(
            "server.public_base_url",
            "must start with https:// when [server.tls] serves HTTPS",
        ));
    }
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ', '?', '#', '@']) => {
            Ok(Some(text.to_owned()))
        }
        _ => Err(invalid(
            "server.public_base_url",
            format!("{text:?} is not a URL like https://reservas.example.com.ar (no path)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_must_be_names_a_public_ca_certifies() {
        for good in [
            "reservas.example.com.ar",
            "a-b.example.com",
            "xn--caa-pma.ar",
        ] {
            assert!(domain_name(good), "{good}");
        }
        for bad in [
            "*.example.com",
            "localhost",
            "192.0.2.1",
            "-a.example.com",
            "a..example.com",
            "ex ample.com",
            "",
        ] {
            assert!(!domain_name(bad), "{bad}");
        }
    }

    #[test]
    fn acme_and_files_exclude_each_other_and_http01_needs_port_80() {
        let both = TlsSection {
            acme_domains: vec!["reservas.example.com".into()],
            cert_file: Some("c.pem".into()),
            key_file: Some("k.pem".into()),
            ..TlsSection::default()
        };
        assert!(
            both.validate()
                .unwrap_err()
                .to_string()
                .contains("acme_domains")
        );
        let half = TlsSection {
            cert_file: Some("c.pem".into()),
            ..TlsSection::default()
        };
        assert!(
            half.validate()
                .unwrap_err()
                .to_string()
                .contains("cert_file")
        );
        let no_80 = TlsSection {
            acme_domains: vec!["reservas.example.com".into()],
            http_listen: String::new(),
            ..TlsSection::default()
        };
        assert!(
            no_80
                .validate()
                .unwrap_err()
                .to_string()
                .contains("http_listen")
        );
        let alpn = TlsSection {
            acme_domains: vec!["Reservas.Example.com.".into()],
            http_listen: String::new(),
            acme_challenge: "tls-alpn-01".into(),
            ..TlsSection::default()
        };
        let tls = alpn.validate().unwrap();
        let Some(CertSource::Acme(a)) = &tls.source else {
            panic!("acme")
        };
        assert_eq!(a.domains, ["reservas.example.com"]);
        assert_eq!(a.directory, LETS_ENCRYPT);
        assert_eq!(
            public_base_url("", &tls).unwrap().as_deref(),
            Some("https://reservas.example.com")
        );
    }

    #[test]
    fn the_public_base_url_is_an_origin_without_a_path() {
        let tls = TlsSection::default().validate().unwrap();
        assert_eq!(public_base_url("", &tls).unwrap(), None);
        assert_eq!(
            public_base_url("https://reservas.example.com/", &tls)
                .unwrap()
                .as_deref(),
            Some("https://reservas.example.com")
        );
        for bad in [
            "reservas.example.com",
            "https://",
            "https://a.example.com/x",
        ] {
            assert!(public_base_url(bad, &tls).is_err(), "{bad}");
        }
    }
}
