//! What rustls asks on every handshake: the certificate to present. Normally the current one;
//! to a CA's TLS-ALPN-01 validation (ALPN `acme-tls/1`), the challenge certificate for the name.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::cert::Loaded;

/// The ALPN protocol of TLS-ALPN-01 validations (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The certificate served, swapped in place on renewal or reload.
#[derive(Debug, Default)]
pub struct CertResolver {
    current: RwLock<Option<Arc<CertifiedKey>>>,
    challenges: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl CertResolver {
    /// Serves `cert` from the next handshake on and exports its expiry.
    pub fn set(&self, cert: &Loaded) {
        *self.current.write().expect("resolver lock") = Some(cert.key.clone());
        metrics::gauge!("tls_certificate_expiry_timestamp_seconds")
            .set(cert.not_after.as_second() as f64);
    }

    /// Presents `cert` to TLS-ALPN-01 validations of `domain` until removed.
    pub fn add_challenge(&self, domain: &str, cert: Arc<CertifiedKey>) {
        self.challenges
            .write()
            .expect("resolver lock")
            .insert(domain.to_owned(), cert);
    }

    pub fn clear_challenges(&self) {
        self.challenges.write().expect("resolver lock").clear();
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let validation = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if validation {
            let name = hello.server_name()?;
            return self
                .challenges
                .read()
                .expect("resolver lock")
                .get(name)
                .cloned();
        }
        self.current.read().expect("resolver lock").clone()
    }
}
