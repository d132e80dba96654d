//! Form safety for the guest pages. A state-changing POST must carry a signed form token
//! (issued with the form: HMAC-SHA256 over its purpose and issue time under a key made at
//! start, valid for [`TOKEN_TTL`]) and must not come from another site: the browser's
//! `Sec-Fetch-Site` must be `same-origin` (or absent, then an `Origin` header must match
//! `server.public_base_url`). This works without cookies, so the booking form works inside
//! the host's iframe and with cookies blocked. The token doubles as the idempotency key of
//! the hold, so a form sent twice takes one hold.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use jiff::Timestamp;

use crate::secret::{Keyed, constant_time_eq, random_hex};

/// How long a form stays valid after it was shown.
const TOKEN_TTL_S: i64 = 6 * 3600;

/// The signing key: random per process (a restart invalidates forms shown before it;
/// the guest is shown the form again).
static KEY: LazyLock<Keyed> = LazyLock::new(|| Keyed::new(random_hex(32).as_bytes()));

fn signature(purpose: &str, issued: i64, nonce: &str) -> String {
    KEY.hex_prefix(format!("{purpose}|{issued}|{nonce}").as_bytes(), 16)
}

/// A fresh token for a form with `purpose` (`book:3`, `cancel:RES…`).
pub fn token(purpose: &str, now: Timestamp) -> String {
    let issued = now.as_second();
    let nonce = random_hex(8);
    format!("{issued}.{nonce}.{}", signature(purpose, issued, &nonce))
}

/// Whether `token` was issued by this process for `purpose` within the last hours.
pub fn token_valid(token: &str, purpose: &str, now: Timestamp) -> bool {
    let mut parts = token.split('.');
    let (Some(issued), Some(nonce), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return false;
    };
    let age = now.as_second() - issued;
    (0..=TOKEN_TTL_S).contains(&age)
        && nonce.len() == 16
        && constant_time_eq(signature(purpose, issued, nonce).as_bytes(), sig.as_bytes())
}

/// Whether the browser says the request comes from one of our own pages.
pub fn same_origin(headers: &HeaderMap, base_url: Option<&str>) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("sec-fetch-site") {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => match (header("origin"), base_url) {
            (Some(origin), Some(base)) => origin.eq_ignore_ascii_case(base),
            (Some("null"), None) => false,
            _ => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_purpose_and_expire() {
        let now = Timestamp::now();
        let t = token("book:1", now);
        assert!(token_valid(&t, "book:1", now));
        assert!(!token_valid(&t, "book:2", now));
        assert!(!token_valid(
            &t,
            "book:1",
            now + jiff::SignedDuration::from_hours(7)
        ));
        assert!(!token_valid("1.2.3", "book:1", now));
        let forged = format!("{}x", &t[..t.len() - 1]);
        assert!(!token_valid(&forged, "book:1", now));
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h, None));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h, None));
        let mut h = HeaderMap::new();
        h.insert("origin", "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h, Some("https://reservas.example.com.ar")));
        assert!(same_origin(&HeaderMap::new(), None));
    }
}
