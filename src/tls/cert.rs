//! A certificate chain and its private key, read from PEM, ready for rustls, with the validity
//! period of the leaf (read with yasna, the DER reader rcgen already brings).

use std::sync::Arc;

use jiff::Timestamp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Why a certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("no certificate in the PEM chain")]
    NoCertificate,
    #[error("unreadable PEM: {0}")]
    Pem(String),
    #[error("unusable private key: {0}")]
    Key(rustls::Error),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("cannot read the certificate's validity: {0}")]
    Validity(String),
}

/// A usable certificate: what rustls serves, and when it stops being valid.
#[derive(Clone)]
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

impl Loaded {
    /// Parses a PEM chain (leaf first) and a PEM private key (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Loaded, CertError> {
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertError::Pem(e.to_string()))?;
        let leaf = chain.first().ok_or(CertError::NoCertificate)?;
        let (not_before, not_after) = validity(leaf)?;
        let key_der =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| CertError::Pem(e.to_string()))?;
        let signing =
            rustls::crypto::ring::sign::any_supported_type(&key_der).map_err(CertError::Key)?;
        let key = CertifiedKey::new(chain, signing);
        key.keys_match().map_err(|_| CertError::KeyMismatch)?;
        Ok(Loaded {
            key: Arc::new(key),
            not_before,
            not_after,
        })
    }

    /// When to renew: `renew_before` ahead of expiry, or a third of the lifetime ahead if that
    /// is less (short-lived certificates).
    pub fn renew_at(&self, renew_before: std::time::Duration) -> Timestamp {
        let lifetime = self.not_after.duration_since(self.not_before);
        let before = jiff::SignedDuration::try_from(renew_before)
            .unwrap_or(jiff::SignedDuration::MAX)
            .min(lifetime / 3);
        self.not_after - before
    }
}

/// `notBefore` and `notAfter` of an X.509 certificate (RFC 5280 §4.1).
fn validity(der: &[u8]) -> Result<(Timestamp, Timestamp), CertError> {
    let bad = |e: yasna::ASN1Error| CertError::Validity(e.to_string());
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }; the
    // TBSCertificate's fields are read whole; validity is the fourth (fifth after a version).
    let fields = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let fields = r.next().read_sequence(|r| {
                let mut fields = Vec::new();
                while let Some(field) = r.read_optional(|r| {
                    let tag = r.lookahead_tag()?;
                    Ok((tag, r.read_der()?))
                })? {
                    fields.push(field);
                }
                Ok(fields)
            })?;
            r.next().read_der()?;
            r.next().read_der()?;
            Ok(fields)
        })
    })
    .map_err(bad)?;
    let versioned = fields
        .first()
        .is_some_and(|(tag, _)| *tag == yasna::Tag::context(0));
    let (_, validity) = fields
        .get(if versioned { 4 } else { 3 })
        .ok_or_else(|| CertError::Validity("too few fields".into()))?;
    let (from, to) = yasna::parse_der(validity, |r| {
        r.read_sequence(|r| Ok((time(r.next())?, time(r.next())?)))
    })
    .map_err(bad)?;
    let ts = |s: i64| Timestamp::from_second(s).map_err(|e| CertError::Validity(e.to_string()));
    Ok((ts(from)?, ts(to)?))
}

/// `Time ::= CHOICE { utcTime, generalTime }` as Unix seconds.
fn time(r: yasna::BERReader<'_, '_>) -> yasna::ASN1Result<i64> {
    if r.lookahead_tag()? == yasna::tags::TAG_UTCTIME {
        Ok(r.read_utctime()?.datetime().unix_timestamp())
    } else {
        Ok(r.read_generalized_time()?.datetime().unix_timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(not_after_year: i32) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["reservas.example.com".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn reads_the_validity_of_utc_and_generalized_times() {
        // Up to 2049 X.509 writes UTCTime, from 2050 GeneralizedTime.
        for year in [2027, 2051] {
            let (chain, key) = self_signed(year);
            let loaded = Loaded::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
            assert_eq!(loaded.not_before.to_string(), "2026-01-01T00:00:00Z");
            assert_eq!(
                loaded.not_after.to_string(),
                format!("{year}-01-01T00:00:00Z")
            );
        }
    }

    #[test]
    fn renews_thirty_days_ahead_or_at_two_thirds_of_a_short_life() {
        let (chain, key) = self_signed(2027);
        let loaded = Loaded::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(
            loaded.renew_at(30 * day).to_string(),
            "2026-12-02T00:00:00Z"
        );
        let short = Loaded {
            not_after: loaded.not_before + jiff::SignedDuration::from_hours(6 * 24),
            ..loaded
        };
        assert_eq!(short.renew_at(30 * day).to_string(), "2026-01-05T00:00:00Z");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (chain, _) = self_signed(2027);
        let (_, other_key) = self_signed(2027);
        let err = Loaded::from_pem(chain.as_bytes(), other_key.as_bytes())
            .err()
            .unwrap();
        assert!(matches!(err, CertError::KeyMismatch), "{err}");
        let err = Loaded::from_pem(b"", other_key.as_bytes()).err().unwrap();
        assert!(matches!(err, CertError::NoCertificate), "{err}");
    }
}
