//! The guest booking site over real HTTP: pages, the booking forms, the guest page's secret,
//! escaping of everything hosts and guests write, photos, and what search engines read. The
//! whole flow in a real browser is `browser.rs`.

mod admin;
mod booking;
mod browser;
mod pages;
mod photos;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, body};

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The slug of accommodation `id`'s page.
pub async fn slug(app: &TestApp, id: u64) -> String {
    let r = app
        .admin_get(&format!("/api/v1/admin/accommodations/{id}/content"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await["slug"].as_str().unwrap().to_owned()
}

/// Saves accommodation `id`'s page content.
pub async fn set_content(app: &TestApp, id: u64, content: Value) -> Response {
    app.client
        .put(app.url(&format!("/api/v1/admin/accommodations/{id}/content")))
        .bearer_auth(&app.admin_token)
        .json(&content)
        .send()
        .await
        .unwrap()
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the form"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Headers a browser sends with a form posted from one of our own pages.
pub fn same_origin() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    h
}

/// The booking form's page for the stay (2 guests).
pub async fn book_page(app: &TestApp, client: &Client, slug: &str, (a, b): (&str, &str)) -> String {
    let url = format!("/alojamientos/{slug}/reservar?entrada={a}&salida={b}&huespedes=2");
    let r = client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// Shows the booking form for the stay and posts it with `name` and a phone; the response
/// is the redirect to the guest page (or the refusal).
pub async fn book(
    app: &TestApp,
    client: &Client,
    slug: &str,
    (check_in, check_out): (&str, &str),
    name: &str,
) -> Response {
    let form = book_page(app, client, slug, (check_in, check_out)).await;
    let token = hidden(&form, "token");
    client
        .post(app.url(&format!("/alojamientos/{slug}/reservar")))
        .headers(same_origin())
        .form(&[
            ("entrada", check_in),
            ("salida", check_out),
            ("huespedes", "2"),
            ("nombre", name),
            ("telefono", "+54 9 11 2233-4455"),
            ("email", ""),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// The property's content with `overrides`.
pub fn property(overrides: Value) -> Value {
    let mut p = json!({"name": "Cabañas del Sur", "pitch": "Junto al lago.", "address": "Ruta 40 km 2000",
        "check_in_time": "14:00", "check_out_time": "10:00", "check_in_instructions": "La llave está en la caja."});
    for (k, v) in overrides.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// How many reservations the site took (channel `web`).
pub async fn web_reservations(app: &TestApp) -> usize {
    let page = body(app.admin_get("/api/v1/admin/reservations?limit=200").await).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["channel"] == "web")
        .count()
}
