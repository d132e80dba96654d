//! Mercado Pago webhook signatures: the `x-signature` header (`ts=…,v1=…`) and the manifest
//! `id:{data.id};request-id:{x-request-id};ts:{ts};` it signs with HMAC-SHA256.

use crate::secret::verify_hmac_sha256_hex;

/// The parts of an `x-signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The `ts` value exactly as sent (it is signed as text).
    pub ts: String,
    /// The hex HMAC.
    pub v1: String,
}

/// Why a notification's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the x-signature header is missing")]
    Missing,
    #[error("the x-signature header is not `ts=<unix time>,v1=<hex>`")]
    Malformed,
    #[error("the signature timestamp is outside the accepted window")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Parses `ts=1704908010,v1=618c…` (parts in any order, spaces around them ignored).
pub fn parse_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let (mut ts, mut v1) = (None, None);
    for part in value.split(',') {
        let (key, val) = part.split_once('=').ok_or(SignatureError::Malformed)?;
        let val = val.trim();
        match key.trim() {
            "ts" => ts = Some(val),
            "v1" => v1 = Some(val),
            _ => {}
        }
    }
    match (ts, v1) {
        (Some(ts), Some(v1))
            if !ts.is_empty()
                && ts.len() <= 16
                && ts.bytes().all(|b| b.is_ascii_digit())
                && !v1.is_empty() =>
        {
            Ok(SignatureHeader {
                ts: ts.to_owned(),
                v1: v1.to_owned(),
            })
        }
        _ => Err(SignatureError::Malformed),
    }
}

/// The signed manifest. `data_id` is lower-cased when it is alphanumeric; absent parts (and
/// empty ones) are left out, as Mercado Pago documents.
pub fn manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut out = String::new();
    if let Some(id) = data_id.filter(|s| !s.is_empty()) {
        let id = if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            id.to_ascii_lowercase()
        } else {
            id.to_owned()
        };
        out.push_str(&format!("id:{id};"));
    }
    if let Some(rid) = request_id.filter(|s| !s.is_empty()) {
        out.push_str(&format!("request-id:{rid};"));
    }
    out.push_str(&format!("ts:{ts};"));
    out
}

/// Seconds since the epoch of a `ts` value; values this large are milliseconds (Mercado Pago
/// has sent both).
fn ts_seconds(ts: &str) -> Option<i64> {
    let n: i64 = ts.parse().ok()?;
    Some(if n >= 100_000_000_000 { n / 1000 } else { n })
}

/// What a notification presents for checking.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub header: Option<&'a str>,
    pub data_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

/// Checks a notification's signature with `secret`: well-formed, `ts` within `tolerance_s`
/// of `now_s` (either way), and the HMAC of the manifest equal in constant time.
pub fn verify(
    secret: &[u8],
    presented: Presented<'_>,
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), SignatureError> {
    let header = parse_header(presented.header.ok_or(SignatureError::Missing)?)?;
    let ts = ts_seconds(&header.ts).ok_or(SignatureError::Malformed)?;
    if (now_s - ts).abs() > tolerance_s {
        return Err(SignatureError::Stale);
    }
    let message = manifest(presented.data_id, presented.request_id, &header.ts);
    if verify_hmac_sha256_hex(secret, message.as_bytes(), &header.v1) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::hmac_sha256_hex;

    const SECRET: &[u8] = b"whsec";

    fn signed(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
        let v1 = hmac_sha256_hex(SECRET, manifest(data_id, request_id, ts).as_bytes());
        format!("ts={ts},v1={v1}")
    }

    fn presented<'a>(
        header: Option<&'a str>,
        data_id: Option<&'a str>,
        request_id: Option<&'a str>,
    ) -> Presented<'a> {
        Presented {
            header,
            data_id,
            request_id,
        }
    }

    #[test]
    fn manifest_follows_the_documented_template() {
        assert_eq!(
            manifest(Some("123456"), Some("bb56a2f1"), "1704908010"),
            "id:123456;request-id:bb56a2f1;ts:1704908010;"
        );
        assert_eq!(
            manifest(Some("ABC123"), None, "1"),
            "id:abc123;ts:1;",
            "alphanumeric ids are lower-cased, absent parts left out"
        );
        assert_eq!(manifest(Some("A-B"), Some(""), "1"), "id:A-B;ts:1;");
        assert_eq!(manifest(None, None, "7"), "ts:7;");
    }

    #[test]
    fn header_parses_in_any_order_and_rejects_garbage() {
        let h = parse_header(" v1=abc , ts=17").unwrap();
        assert_eq!((h.ts.as_str(), h.v1.as_str()), ("17", "abc"));
        for bad in [
            "",
            "ts=1",
            "v1=ab",
            "ts=x,v1=ab",
            "ts=1;v1=ab",
            "garbage",
            "ts=,v1=a",
        ] {
            assert_eq!(parse_header(bad), Err(SignatureError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn verifies_the_manifest_and_the_window() {
        let now = 1_704_908_010;
        let header = signed(Some("123"), Some("req-1"), "1704908000");
        let ok = presented(Some(&header), Some("123"), Some("req-1"));
        assert_eq!(verify(SECRET, ok, now, 300), Ok(()));
        assert_eq!(
            verify(b"other", ok, now, 300),
            Err(SignatureError::Mismatch)
        );
        let tampered = presented(Some(&header), Some("124"), Some("req-1"));
        assert_eq!(
            verify(SECRET, tampered, now, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(SECRET, ok, now + 301, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, presented(None, Some("123"), None), now, 300),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn millisecond_timestamps_are_understood() {
        let header = signed(Some("9"), None, "1704908000123");
        let p = presented(Some(&header), Some("9"), None);
        assert_eq!(verify(SECRET, p, 1_704_908_010, 300), Ok(()));
        assert_eq!(
            verify(SECRET, p, 1_704_909_000, 300),
            Err(SignatureError::Stale)
        );
    }
}
