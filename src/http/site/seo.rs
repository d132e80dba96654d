//! What search engines and link previews read: absolute URLs from `server.public_base_url`
//! (never from the request's Host header), schema.org JSON-LD, `robots.txt` and
//! `sitemap.xml`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::views::Picture;
use crate::app::site::Page;
use crate::domain::content::{Amenity, PropertyContent};
use crate::http::AppState;

/// `path` on the configured public base URL; none when no base URL is configured.
pub fn absolute(state: &AppState, path: &str) -> Option<String> {
    state
        .app
        .settings
        .public_base_url
        .as_ref()
        .map(|base| format!("{base}{path}"))
}

/// JSON that can sit inside `<script>`: `<`, `>` and `&` are escaped as `\u00XX`.
fn script_safe(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn images(state: &AppState, page: &Page) -> Vec<String> {
    page.content
        .photos
        .iter()
        .filter_map(|p| absolute(state, &Picture::of(p, 1200)?.src))
        .collect()
}

fn business_value(state: &AppState, p: &PropertyContent) -> Value {
    let mut v = json!({
        "@type": "LodgingBusiness",
        "name": p.name,
    });
    if let Some(url) = absolute(state, "/") {
        v["url"] = json!(url);
    }
    if !p.pitch.is_empty() {
        v["description"] = json!(p.pitch);
    }
    if !p.address.is_empty() {
        v["address"] = json!(p.address);
    }
    if !p.contact_phone.is_empty() {
        v["telephone"] = json!(p.contact_phone);
    }
    if !p.contact_email.is_empty() {
        v["email"] = json!(p.contact_email);
    }
    if !p.check_in_time.is_empty() {
        v["checkinTime"] = json!(p.check_in_time);
    }
    if !p.check_out_time.is_empty() {
        v["checkoutTime"] = json!(p.check_out_time);
    }
    if !p.social_links.is_empty() {
        v["sameAs"] = json!(p.social_links.iter().map(|l| &l.url).collect::<Vec<_>>());
    }
    v
}

/// schema.org `LodgingBusiness` of the home page, with its accommodations.
pub fn business(state: &AppState, p: &PropertyContent, pages: &[Page]) -> String {
    let mut v = business_value(state, p);
    v["@context"] = json!("https://schema.org");
    if let Some(image) = pages.iter().flat_map(|page| images(state, page)).next() {
        v["image"] = json!(image);
    }
    v["containsPlace"] = json!(
        pages
            .iter()
            .map(|page| accommodation_value(state, page))
            .collect::<Vec<_>>()
    );
    script_safe(&v)
}

fn accommodation_value(state: &AppState, page: &Page) -> Value {
    let spec = &page.accommodation.spec;
    let mut v = json!({
        "@type": "Accommodation",
        "name": spec.name,
        "occupancy": {"@type": "QuantitativeValue", "maxValue": spec.capacity},
        "amenityFeature": Amenity::ALL
            .iter()
            .filter(|a| page.content.has(**a))
            .map(|a| json!({"@type": "LocationFeatureSpecification", "name": a.label(), "value": true}))
            .collect::<Vec<_>>(),
    });
    if !spec.description.is_empty() {
        v["description"] = json!(spec.description);
    }
    if let Some(url) = absolute(state, &format!("/alojamientos/{}", page.content.slug)) {
        v["url"] = json!(url);
    }
    let images = images(state, page);
    if !images.is_empty() {
        v["image"] = json!(images);
    }
    v
}

/// schema.org `Accommodation` of an accommodation page, inside its `LodgingBusiness`.
pub fn accommodation(state: &AppState, p: &PropertyContent, page: &Page) -> String {
    let mut v = accommodation_value(state, page);
    v["@context"] = json!("https://schema.org");
    v["containedInPlace"] = business_value(state, p);
    script_safe(&v)
}

fn text(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `robots.txt`: the pages are open; the API, the admin, guest pages and forms are not
/// for indexing.
pub async fn robots(State(state): State<AppState>) -> Response {
    let mut body = String::from(
        "User-agent: *\nDisallow: /api/\nDisallow: /admin/\nDisallow: /reserva/\n\
         Disallow: /embed\nDisallow: /alojamientos/*/reservar\nAllow: /\n",
    );
    if let Some(url) = absolute(&state, "/sitemap.xml") {
        body.push_str(&format!("Sitemap: {url}\n"));
    }
    text("text/plain; charset=utf-8", body)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `sitemap.xml`: the home and every accommodation on sale (absolute URLs need
/// `server.public_base_url`; without it the list is empty).
pub async fn sitemap(State(state): State<AppState>) -> Response {
    let mut urls = Vec::new();
    if let Some(home) = absolute(&state, "/") {
        urls.push(home);
        if let Ok(pages) = state.app.site.pages() {
            urls.extend(
                pages
                    .iter()
                    .filter_map(|p| absolute(&state, &format!("/alojamientos/{}", p.content.slug))),
            );
        }
    }
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for url in urls {
        body.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&url)));
    }
    body.push_str("</urlset>\n");
    text("application/xml; charset=utf-8", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let v = json!({"name": "</script><script>alert(1)</script>&"});
        let s = script_safe(&v);
        assert!(!s.contains('<') && !s.contains('&'), "{s}");
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
