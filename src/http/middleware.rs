//! Request ids, trace ids, access logs and HTTP metrics for every request.
//!
//! The access log line of a request is at `debug` on target `alojamientos::access`, so the
//! default `info` filter writes none; a failed request (5xx) is logged at `error` and a slow one
//! (over `log.slow_request`) at `warn` whatever that target's level.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACE_ID: HeaderName = HeaderName::from_static("x-trace-id");

/// The target of access log lines.
pub const ACCESS: &str = "alojamientos::access";

fn new_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 32];
    let random = rand::random::<u128>();
    for (i, digit) in id.iter_mut().enumerate() {
        *digit = HEX[(random >> (124 - 4 * i) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&id).expect("hex digits are a valid header value")
}

/// A client-sent id we are willing to echo: short and plain.
fn acceptable(value: &HeaderValue) -> Option<HeaderValue> {
    let b = value.as_bytes();
    (!b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b)))
    .then(|| value.clone())
}

/// Counts a request in `http_requests_in_flight` until dropped, even when the client goes away
/// and the request future is dropped mid-way.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        metrics::gauge!("http_requests_in_flight").increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("http_requests_in_flight").decrement(1.0);
    }
}

/// The method as a metric label: the standard ones, else `OTHER`, so a client inventing
/// methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// A label value from a small fixed set (route templates, status codes), kept for the life
/// of the process so labelling a request allocates nothing. Past a bound (which the router's
/// routes and the statuses it answers never reach) values are no longer kept.
fn interned(text: &str) -> metrics::SharedString {
    const MOST: usize = 1_000;
    static KEPT: OnceLock<RwLock<HashMap<String, &'static str>>> = OnceLock::new();
    let kept = KEPT.get_or_init(Default::default);
    if let Some(s) = kept.read().unwrap_or_else(|p| p.into_inner()).get(text) {
        return metrics::SharedString::const_str(s);
    }
    let mut kept = kept.write().unwrap_or_else(|p| p.into_inner());
    if kept.len() >= MOST {
        return text.to_owned().into();
    }
    let s: &'static str = kept
        .entry(text.to_owned())
        .or_insert_with(|| Box::leak(text.into()));
    metrics::SharedString::const_str(s)
}

/// How a finished request is logged: failures and slow requests always, the rest only when
/// the access target is at `debug`.
fn access_log(status: StatusCode, elapsed: Duration, slow: Duration) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    if status >= 500 {
        tracing::error!(target: ACCESS, status, latency_ms, "request failed");
    } else if elapsed >= slow {
        tracing::warn!(target: ACCESS, status, latency_ms, "slow request");
    } else {
        tracing::debug!(target: ACCESS, status, latency_ms, "request");
    }
}

/// Tags the request with ids (echoing the client's trace id), logs it (see the module doc)
/// and records metrics labelled by route template, never by concrete path. `slow` is
/// `log.slow_request`.
pub async fn observe(State(slow): State<Duration>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(acceptable)
        .unwrap_or_else(new_id);
    let trace_id = req
        .headers()
        .get(&TRACE_ID)
        .and_then(acceptable)
        .unwrap_or_else(|| request_id.clone());
    let route = interned(
        req.extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |p| p.as_str()),
    );
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "request",
        request_id = request_id.to_str().unwrap_or_default(),
        trace_id = trace_id.to_str().unwrap_or_default(),
        method,
        route = &*route,
    );
    let _in_flight = InFlight::enter();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    let elapsed = started.elapsed();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => interned(status.as_str())).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
    span.in_scope(|| access_log(status, elapsed, slow));
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, request_id);
    headers.insert(TRACE_ID, trace_id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_32_hex_digits_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 32);
        assert!(a.as_bytes().iter().all(u8::is_ascii_hexdigit));
        assert_ne!(a, b);
    }

    #[test]
    fn only_plain_short_ids_are_echoed() {
        let ok = HeaderValue::from_static("trace-1.a_b:c");
        assert_eq!(acceptable(&ok), Some(ok));
        for bad in ["", "a b", "a/b", &"x".repeat(129)] {
            assert_eq!(
                acceptable(&HeaderValue::from_str(bad).unwrap()),
                None,
                "{bad:?}"
            );
        }
    }

    /// What `access_log` writes for a failed, a slow, a fast and a refused request under
    /// `log.filter` = `filter` (JSON lines, as in production).
    fn logged(filter: &str) -> Vec<serde_json::Value> {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(crate::telemetry::directives(filter))
            .with_writer(move || out.clone())
            .finish();
        let slow = Duration::from_secs(1);
        tracing::subscriber::with_default(subscriber, || {
            access_log(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_millis(3),
                slow,
            );
            access_log(StatusCode::CREATED, Duration::from_secs(2), slow);
            access_log(StatusCode::OK, Duration::from_millis(3), slow);
            access_log(StatusCode::NOT_FOUND, Duration::from_millis(3), slow);
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn failed_and_slow_requests_are_logged_at_info_and_the_rest_only_at_debug() {
        let at_info = logged("info");
        let seen: Vec<(&str, u64)> = at_info
            .iter()
            .map(|l| {
                (
                    l["level"].as_str().unwrap(),
                    l["fields"]["status"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(seen, [("ERROR", 503), ("WARN", 201)]);
        assert!(at_info.iter().all(|l| l["target"] == ACCESS));
        assert_eq!(logged("warn").len(), 2);
        assert_eq!(logged("info,alojamientos::access=debug").len(), 4);
        assert_eq!(logged("debug").len(), 4);
    }

    #[test]
    fn invented_methods_share_one_label() {
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }
}
