//! The host's web UI: static pages from `assets/admin/`, embedded in the binary at build time.
//! The page talks to the same JSON API as every other client, logged in by the session cookie.
//!
//! Asset URLs carry a content hash (`app.<hash>.js`), so they are cached for a year; the page
//! itself is revalidated by its ETag. Responses are gzip-compressed when the browser accepts it.

use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;

use super::AppState;
use crate::secret::sha256_hex_bytes;

/// One embedded file, ready to serve (the guest site's files too).
pub(super) struct Asset {
    /// Name as written in `index.html` (`app.js`).
    name: &'static str,
    content_type: &'static str,
    /// First 16 hex digits of the SHA-256 of `body`.
    hash: String,
    body: Bytes,
    gzip: Bytes,
}

impl Asset {
    pub(super) fn new(name: &'static str, content_type: &'static str, body: Vec<u8>) -> Self {
        let hash = sha256_hex_bytes(&body)[..16].to_owned();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder
            .write_all(&body)
            .expect("compressing into memory cannot fail");
        let gzip = Bytes::from(
            encoder
                .finish()
                .expect("compressing into memory cannot fail"),
        );
        Asset {
            name,
            content_type,
            hash,
            body: Bytes::from(body),
            gzip,
        }
    }

    /// Its name with the content hash: `app.<hash>.js`.
    pub(super) fn hashed_name(&self) -> String {
        let (stem, ext) = self.name.rsplit_once('.').unwrap_or((self.name, ""));
        format!("{stem}.{}.{ext}", self.hash)
    }

    /// The URL the page uses for it: `/admin/assets/app.<hash>.js`.
    fn url(&self) -> String {
        format!("/admin/assets/{}", self.hashed_name())
    }

    /// The compressed size (what a browser that takes gzip downloads).
    #[cfg(test)]
    pub(super) fn gzip_len(&self) -> usize {
        self.gzip.len()
    }

    pub(super) fn respond(&self, request: &HeaderMap, cache_control: &'static str) -> Response {
        let etag = format!("\"{}\"", self.hash);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.insert(
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header value"),
        );
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let gzip_ok = request
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        if gzip_ok {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (headers, self.gzip.clone()).into_response()
        } else {
            (headers, self.body.clone()).into_response()
        }
    }
}

/// The page and the files it loads.
struct Ui {
    page: Asset,
    files: Vec<Asset>,
}

static UI: LazyLock<Ui> = LazyLock::new(|| {
    let files = vec![
        Asset::new(
            "app.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/admin/app.js").to_vec(),
        ),
        Asset::new(
            "site.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/admin/site.js").to_vec(),
        ),
        Asset::new(
            "setup.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/admin/setup.js").to_vec(),
        ),
        Asset::new(
            "app.css",
            "text/css; charset=utf-8",
            include_bytes!("../../assets/admin/app.css").to_vec(),
        ),
        Asset::new(
            "icon.svg",
            "image/svg+xml",
            include_bytes!("../../assets/admin/icon.svg").to_vec(),
        ),
    ];
    let mut html = include_str!("../../assets/admin/index.html").to_owned();
    for f in &files {
        html = html.replace(&format!("{{{{{}}}}}", f.name), &f.url());
    }
    Ui {
        page: Asset::new("index.html", "text/html; charset=utf-8", html.into_bytes()),
        files,
    }
});

async fn page(request: HeaderMap) -> Response {
    UI.page.respond(&request, "no-cache")
}

async fn asset(Path(file): Path<String>, request: HeaderMap) -> Response {
    let found = UI
        .files
        .iter()
        .find(|a| a.url().ends_with(&format!("/{file}")));
    match found {
        Some(a) => a.respond(&request, "public, max-age=31536000, immutable"),
        None => super::ApiError::not_found("not_found", "no such asset").into_response(),
    }
}

/// `/admin/` and its assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(page))
        .route("/admin/assets/{file}", get(asset))
}

/// Headers every response carries: no framing, no sniffing, no referrer, and a policy that
/// lets a page run only this server's scripts and styles. A response that brings its own
/// policy (the guest site, which the host may frame) keeps it and may be framed.
pub async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_every_asset_by_its_hash() {
        let html = String::from_utf8(UI.page.body.to_vec()).unwrap();
        assert!(!html.contains("{{"), "a placeholder was left in index.html");
        for f in &UI.files {
            assert!(
                html.contains(&f.url()),
                "index.html does not link {}",
                f.name
            );
        }
    }

    #[test]
    fn page_and_assets_stay_under_100_kb_compressed() {
        let total: usize =
            UI.files.iter().map(|a| a.gzip.len()).sum::<usize>() + UI.page.gzip.len();
        assert!(total < 100 * 1024, "{total} bytes");
    }
}
