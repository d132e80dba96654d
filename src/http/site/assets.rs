//! The site's stylesheet and script (embedded from `assets/site/`, served under content-hashed
//! names with a one-year immutable cache, gzip-compressed) and the photos (`/media/{key}`,
//! content-addressed, immutable).

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::content::PhotoFormat;
use crate::http::AppState;
use crate::http::admin_ui::Asset;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

static FILES: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        Asset::new(
            "site.css",
            "text/css; charset=utf-8",
            include_bytes!("../../../assets/site/site.css").to_vec(),
        ),
        Asset::new(
            "site.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../../assets/site/site.js").to_vec(),
        ),
    ]
});

pub fn css_url() -> String {
    format!("/sitio/assets/{}", FILES[0].hashed_name())
}

pub fn js_url() -> String {
    format!("/sitio/assets/{}", FILES[1].hashed_name())
}

/// Bytes a first visit downloads besides the page and the photos (compressed).
#[cfg(test)]
fn compressed_size() -> usize {
    FILES.iter().map(Asset::gzip_len).sum()
}

fn missing() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// `GET /sitio/assets/{name}.{hash}.{ext}`
pub async fn file(Path(file): Path<String>, request: HeaderMap) -> Response {
    match FILES.iter().find(|a| a.hashed_name() == file) {
        Some(a) => a.respond(&request, IMMUTABLE),
        None => missing(),
    }
}

/// `GET /media/{hash}.{jpg|webp}`: a photo rendition; its name is its content hash.
pub async fn media(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let format = match key.rsplit_once('.') {
        Some((hash, "jpg")) if is_hash(hash) => PhotoFormat::Jpeg,
        Some((hash, "webp")) if is_hash(hash) => PhotoFormat::Webp,
        _ => return missing(),
    };
    match state.app.site.media(&key) {
        Ok(Some(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.content_type()),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => missing(),
        Err(e) => crate::http::ApiError::from(e).into_response(),
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_and_script_stay_small() {
        assert!(compressed_size() < 12 * 1024, "{} bytes", compressed_size());
    }
}
