//! Per-client token buckets for public endpoints. The client is the socket peer, or the
//! `X-Forwarded-For` address a configured trusted proxy reports; an IPv6 client is its /64
//! (one subscriber gets a whole /64, so its addresses are one client). When too many clients
//! are tracked, the least busy half is forgotten and the busiest keep their buckets, so a
//! flood of new addresses cannot reset anyone's limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::config::RateLimit;
use crate::domain::hold_limits::network_of;

/// Clients tracked at most; when the map is full the least busy half is forgotten (the scan
/// runs only then, so its cost is spread over the clients that filled it).
const MAX_TRACKED: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per client address.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`, or says how many whole seconds until one is available.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst);
        let client = network_of(client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            keep_busiest(&mut buckets, MAX_TRACKED / 2, |b| {
                (b.tokens + now.duration_since(b.updated).as_secs_f64() * rate).min(burst)
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Keeps the `keep` clients with the fewest tokens left (`tokens` of a bucket, refilled to
/// now): the busiest. Full buckets, clients that have gone quiet, go first.
fn keep_busiest(
    buckets: &mut HashMap<IpAddr, Bucket>,
    keep: usize,
    tokens: impl Fn(&Bucket) -> f64,
) {
    let mut levels: Vec<(f64, IpAddr)> = buckets.iter().map(|(ip, b)| (tokens(b), *ip)).collect();
    if levels.len() <= keep {
        return;
    }
    levels.select_nth_unstable_by(keep, |a, b| a.0.total_cmp(&b.0));
    for (_, ip) in &levels[keep..] {
        buckets.remove(ip);
    }
}

/// The address a request really comes from.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer.ip()) {
        return peer.ip();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer.ip())
}

/// Refuses a request with 429 and `Retry-After` when its client is over the limit.
pub async fn limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.rate_limiter {
        let client = client_ip(peer, req.headers(), &state.app.settings.trusted_proxies);
        if let Err(wait) = limiter.check(client) {
            metrics::counter!("http_rate_limited_total").increment(1);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; slow down",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return response;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_burst_and_names_a_wait() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(ip).is_ok());
        }
        assert_eq!(limiter.check(ip), Err(1));
        assert!(limiter.check("127.0.0.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 2,
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(b).is_ok());
        assert!(limiter.check(a).is_err(), "the same /64");
        assert!(limiter.check("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_flood_of_new_clients_does_not_reset_the_busiest() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        });
        let busy: IpAddr = "203.0.113.1".parse().unwrap();
        for _ in 0..3 {
            limiter.check(busy).unwrap();
        }
        assert!(limiter.check(busy).is_err());
        // Enough new clients (each spending one token) to fill the map several times.
        for i in 0..(2 * MAX_TRACKED as u32) {
            let ip = IpAddr::from(std::net::Ipv6Addr::from(
                (0x2001_0db8_u128 << 96) | (u128::from(i) << 64),
            ));
            let _ = limiter.check(ip);
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_TRACKED);
        assert!(limiter.check(busy).is_err(), "still limited");
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.1".parse().unwrap());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(proxy, 4000);
        assert_eq!(client_ip(peer, &headers, &[]), proxy);
        assert_eq!(
            client_ip(peer, &headers, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}
