//! The guest booking site: server-rendered pages (askama templates in `templates/site/`,
//! checked at compile time and escaped by default) that work without JavaScript, a small
//! script that updates the calendar and calculator in place when it runs, the photos, the
//! embed for the host's own website, and what search engines and link previews read. Every
//! booking goes through `app::booking`, like the API's and WhatsApp's.
//!
//! The site brings its own Content-Security-Policy: no inline scripts or styles, and
//! `frame-ancestors` from `site.frame_ancestors` (the admin keeps `'none'`).

mod assets;
mod book;
mod calendar;
#[cfg(test)]
mod contrast;
mod embed;
mod format;
mod forms;
mod guest;
mod guest_forms;
mod pages;
mod seo;
mod stay;
mod views;

use std::io::Write;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use crate::store::StoreError;

/// Pages a stranger can reach (limited per client like the public API) and the static files
/// and photos (not limited: immutable and cheap); `None` with `site.enabled = false`.
pub fn routes(state: &AppState) -> Option<(Router<AppState>, Router<AppState>)> {
    if !state.app.settings.site.enabled {
        return None;
    }
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/alojamientos/{slug}", get(pages::accommodation))
        .route(
            "/alojamientos/{slug}/reservar",
            get(book::form).post(book::submit),
        )
        .route("/reserva/{code}", get(guest::page_view))
        .route(
            "/reserva/{code}/cancelar",
            axum::routing::post(guest_forms::cancel),
        )
        .route(
            "/reserva/{code}/pagar",
            axum::routing::post(guest_forms::pay),
        )
        .route("/reserva/{code}/estadia.ics", get(guest::ics))
        .route("/embed", get(embed::widget));
    let files = Router::new()
        .route("/sitio/assets/{file}", get(assets::file))
        .route("/sitio/embed.js", get(embed::script))
        .route("/media/{key}", get(assets::media))
        .route("/robots.txt", get(seo::robots))
        .route("/sitemap.xml", get(seo::sitemap));
    Some((pages, files))
}

/// The site's Content-Security-Policy: only this server's scripts, styles and images, forms
/// posting here, and framing only by the configured origins.
fn policy(state: &AppState) -> HeaderValue {
    let ancestors = &state.app.settings.site.frame_ancestors;
    let frame = if ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        format!("'self' {}", ancestors.join(" "))
    };
    HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"))
}

/// Whether the client takes gzip.
fn takes_gzip(request: &HeaderMap) -> bool {
    request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// An HTML page with the site's policy, compressed when the client takes gzip.
fn html(
    state: &AppState,
    request: &HeaderMap,
    status: StatusCode,
    cache: &'static str,
    body: String,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy(state));
    if takes_gzip(request) {
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 3),
            flate2::Compression::fast(),
        );
        if encoder.write_all(body.as_bytes()).is_ok()
            && let Ok(gz) = encoder.finish()
        {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return (status, headers, gz).into_response();
        }
    }
    (status, headers, body).into_response()
}

/// Renders a template into a page.
fn page(
    state: &AppState,
    request: &HeaderMap,
    status: StatusCode,
    cache: &'static str,
    template: &impl Template,
) -> Response {
    match template.render() {
        Ok(body) => html(state, request, status, cache, body),
        Err(e) => {
            tracing::error!(error = %e, "a site template failed to render");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "rendering failed",
            )
            .into_response()
        }
    }
}

/// A page that could not be shown: 404 (nothing here, or not for this link), 403 (a form
/// from elsewhere), or the store's trouble as its status.
#[derive(Debug)]
pub enum SiteError {
    NotFound,
    Forbidden,
    Store(StoreError),
}

impl From<StoreError> for SiteError {
    fn from(e: StoreError) -> Self {
        SiteError::Store(e)
    }
}

impl SiteError {
    fn respond(self, state: &AppState, request: &HeaderMap) -> Response {
        let (status, title, text) = match self {
            SiteError::NotFound => (
                StatusCode::NOT_FOUND,
                "No encontramos esta página",
                "Puede que el enlace esté incompleto o que ya no exista. Si buscás tu reserva, \
                 abrí el enlace completo que te enviamos.",
            ),
            SiteError::Forbidden => (
                StatusCode::FORBIDDEN,
                "No pudimos procesar el formulario",
                "El formulario venció o llegó desde otro sitio. Volvé a la página y envialo de \
                 nuevo.",
            ),
            SiteError::Store(e) => (
                ApiError::from(e).status,
                "Ahora no podemos atenderte",
                "Probá de nuevo en unos minutos.",
            ),
        };
        message(state, request, status, title, text)
    }
}

/// A page with a title and one paragraph.
fn message(
    state: &AppState,
    request: &HeaderMap,
    status: StatusCode,
    title: &'static str,
    text: &'static str,
) -> Response {
    let property = state
        .app
        .site
        .property()
        .map(|p| p.name)
        .unwrap_or_default();
    let view = views::Message {
        base: views::Base::plain(title, &property),
        title,
        text,
    };
    page(state, request, status, "no-store", &view)
}
