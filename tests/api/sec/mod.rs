//! Hardening for the open internet, tried as an attacker would over real HTTP: hold limits
//! against inventory flooding, bounded logins, and the smaller holes of issue 14.

mod admin_holds;
mod connections;
mod holds;
mod holes;
mod logins;

use alojamientos::config::{HoldsSection, RawSettings};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::TestApp;

/// The app with the shipped `[holds]` limits, trusting 127.0.0.1 as a proxy so each test
/// client can name its own address in `X-Forwarded-For`.
async fn with_hold_limits(extra: impl FnOnce(&mut RawSettings)) -> TestApp {
    TestApp::spawn_with(|raw| {
        hold_limits_on(raw);
        extra(raw);
    })
    .await
}

/// The shipped hold limits, with the test client as a trusted proxy.
fn hold_limits_on(raw: &mut RawSettings) {
    raw.holds = HoldsSection::default();
    raw.server.trusted_proxies = vec!["127.0.0.1".into()];
}

/// A guest's hold request from `address` (as a trusted proxy reports it).
async fn hold_from(app: &TestApp, address: &str, body: &Value) -> reqwest::Response {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    app.client
        .post(app.url("/api/v1/reservations"))
        .headers(headers)
        .json(body)
        .send()
        .await
        .unwrap()
}
