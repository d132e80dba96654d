//! One conditional GET of a feed: timeouts, redirect cap, gzip, body cap, 304, Retry-After.

use std::time::Duration;

use ureq::Agent;

use crate::integrations::outbound::retry_after;

/// A response that can become a snapshot, or "unchanged".
#[derive(Debug)]
pub enum Fetched {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Why a fetch gave nothing usable. None of these ever releases dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the feed did not answer within the timeout")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("too many redirects")]
    Redirects,
    #[error("the feed answered HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("the body is larger than ical.max_body_bytes")]
    TooLarge,
    #[error("the feed answered with an empty body")]
    Empty,
    #[error("{0}")]
    Forbidden(String),
}

impl FetchError {
    /// Stable label for `ical_sync_errors_total{error_type}` and the feed's `last_error`.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Timeout => "timeout",
            FetchError::Network(_) => "network",
            FetchError::Redirects => "redirects",
            FetchError::Status { status: 429, .. } => "http_429",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { .. } => "http_4xx",
            FetchError::TooLarge => "too_large",
            FetchError::Empty => "empty",
            FetchError::Forbidden(_) => "forbidden_address",
        }
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn classify(error: ureq::Error) -> FetchError {
    match error {
        ureq::Error::Timeout(_) => FetchError::Timeout,
        ureq::Error::TooManyRedirects => FetchError::Redirects,
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => FetchError::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            FetchError::Forbidden(e.to_string())
        }
        other => FetchError::Network(other.to_string()),
    }
}

/// GETs `url`, sending the validators of the last full response.
pub fn fetch(
    agent: &Agent,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    max_body_bytes: u64,
) -> Result<Fetched, FetchError> {
    let mut request = agent.get(url).header("Accept", "text/calendar, */*;q=0.5");
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    if let Some(at) = last_modified {
        request = request.header("If-Modified-Since", at);
    }
    let mut response = request.call().map_err(classify)?;
    let status = response.status().as_u16();
    if status == 304 {
        return Ok(Fetched::NotModified);
    }
    if status != 200 {
        return Err(FetchError::Status {
            status,
            retry_after: retry_after(response.headers(), jiff::Timestamp::now()),
        });
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let bytes = response
        .body_mut()
        .with_config()
        .limit(max_body_bytes)
        .read_to_vec()
        .map_err(classify)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FetchError::Empty);
    }
    Ok(Fetched::Body {
        bytes,
        etag,
        last_modified,
    })
}
