//! What every outbound client shares: a ureq agent with timeouts and a redirect cap that hands
//! every status back to the caller, `Retry-After` parsing, and jittered exponential backoff.

use std::time::Duration;

use ureq::Agent;
use ureq::http::HeaderMap;

/// Limits for one provider's agent.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Whole-request deadline (connect, send, headers and body).
    pub timeout: Duration,
    /// Redirects followed before the request fails.
    pub max_redirects: u32,
}

/// A ureq agent (rustls, gzip) that treats 4xx/5xx as responses rather than errors, so callers
/// can read `Retry-After` and decide about retries themselves.
pub fn agent(limits: Limits) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(limits.timeout))
        .max_redirects(limits.max_redirects)
        .http_status_as_error(false)
        .user_agent(concat!("alojamientos/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The delay a `Retry-After` header asks for: delta-seconds or an HTTP date (RFC 9110).
pub fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// Capped exponential backoff with "equal jitter": after `failures` consecutive failures the
/// wait is between half and all of `min(cap, base * 2^(failures-1))`; `jitter` is in `[0, 1)`.
pub fn backoff(failures: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let ceiling = exp.min(cap);
    ceiling / 2 + ceiling.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
}

/// When an outbox tries a message again after its `attempts`th failed attempt: a jittered
/// backoff between `base` and `cap`, never sooner than the server's `hint` (`Retry-After`) nor
/// later than `cap`; `None` once `max_attempts` are used up.
pub fn retry_at(
    attempts: u32,
    max_attempts: u32,
    base: Duration,
    cap: Duration,
    hint: Option<Duration>,
    now: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    if attempts >= max_attempts {
        return None;
    }
    let wait = backoff(attempts, base, cap, rand::random())
        .max(hint.unwrap_or_default())
        .min(cap);
    Some(now + jiff::SignedDuration::try_from(wait).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        assert_eq!(
            retry_after(&headers("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&headers("Sat, 28 Nov 2026 10:01:30 GMT"), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(&headers("Sat, 28 Nov 2026 09:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retries_stop_after_the_last_attempt_and_honour_the_hint_up_to_the_cap() {
        let now: jiff::Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(60));
        let at = |attempts, hint| retry_at(attempts, 3, base, cap, hint, now);
        let first = at(1, None).unwrap();
        assert!(first >= now + jiff::SignedDuration::from_millis(500));
        assert!(first <= now + jiff::SignedDuration::from_secs(1));
        assert_eq!(
            at(2, Some(Duration::from_secs(30))),
            Some(now + jiff::SignedDuration::from_secs(30))
        );
        assert_eq!(
            at(2, Some(Duration::from_secs(3600))),
            Some(now + jiff::SignedDuration::from_secs(60))
        );
        assert_eq!(at(3, None), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_within_jitter_bounds() {
        let base = Duration::from_secs(60);
        let cap = Duration::from_secs(3600);
        assert_eq!(backoff(1, base, cap, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(3, base, cap, 0.0), Duration::from_secs(120));
        assert_eq!(backoff(30, base, cap, 1.0), cap);
        for failures in 0..40 {
            let d = backoff(failures, base, cap, 0.5);
            assert!(d <= cap && d >= base / 4, "{failures}: {d:?}");
        }
    }
}
