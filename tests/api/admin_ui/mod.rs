//! The host's web UI: its session cookie, CSRF protection, headers and assets over plain
//! HTTP, and the whole host workflow in a real headless chromium.

use crate::helpers::fake_feeds::FakeFeeds;
use crate::helpers::fake_mp::{self, FakeMp};
use crate::helpers::webdriver::{Browser, browser};
use crate::helpers::{TestApp, body, day};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

mod browser;

/// Logs in through the UI's endpoint: the `Set-Cookie` header and the CSRF token.
async fn ui_login(app: &TestApp, host: Option<&str>) -> (String, String) {
    let mut req = app
        .client
        .post(app.url("/api/v1/admin/session"))
        .json(&json!({"email": app.admin_email, "password": app.admin_password}));
    if let Some(h) = host {
        req = req.header(header::HOST, h);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    let csrf = body(r).await["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

/// `GET /admin/session` with only the cookie `name=value`.
async fn session_with(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/admin/session"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn session_cookie_is_httponly_strict_and_secure_off_loopback() {
    let app = TestApp::spawn().await;
    let (local, _) = ui_login(&app, None).await;
    assert!(local.starts_with("alojamientos_session="), "{local}");
    assert!(local.contains("; HttpOnly"), "{local}");
    assert!(local.contains("; SameSite=Strict"), "{local}");
    assert!(!local.contains("Secure"), "plain HTTP on loopback: {local}");
    let (public, _) = ui_login(&app, Some("cabanas.example.com")).await;
    assert!(public.contains("; Secure"), "{public}");

    let me = session_with(&app, &cookie_pair(&local)).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(body(me).await["email"], app.admin_email.as_str());

    let bad = app
        .client
        .post(app.url("/api/v1/admin/session"))
        .json(&json!({"email": app.admin_email, "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body(bad).await["error"], "invalid_credentials");
}

#[tokio::test]
async fn forged_form_post_with_the_cookie_is_rejected() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let (set_cookie, csrf) = ui_login(&app, None).await;
    let cookie = cookie_pair(&set_cookie);
    let block = json!({"accommodation_id": id, "check_in": day(10), "check_out": day(12)});

    // What a hostile page's <form> would send: the browser's cookie, a form body, no token.
    let forged = app
        .client
        .post(app.url("/api/v1/admin/blocks"))
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "accommodation_id={id}&check_in={}&check_out={}",
            day(10),
            day(12)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(forged).await["error"], "csrf_invalid");

    let send = |token: Option<String>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/admin/blocks"))
            .header(header::COOKIE, &cookie)
            .json(&block);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    let wrong = send(Some("0".repeat(64))).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let blocks = body(app.admin_get("/api/v1/admin/blocks").await).await;
    assert_eq!(blocks.as_array().unwrap().len(), 0, "nothing was blocked");

    let right = send(Some(csrf.clone())).await.unwrap();
    assert_eq!(right.status(), StatusCode::CREATED);

    // Logging out needs the token too, and ends the session.
    let logout = |token: Option<&str>| {
        let mut req = app
            .client
            .delete(app.url("/api/v1/admin/session"))
            .header(header::COOKIE, &cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    assert_eq!(logout(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let out = logout(Some(&csrf)).await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = session_with(&app, &cookie).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

fn assert_security_headers(h: &HeaderMap) {
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(h.contains_key(header::REFERRER_POLICY));
}

#[tokio::test]
async fn page_and_assets_are_cached_compressed_and_guarded() {
    let app = TestApp::spawn().await;
    let page = app.get("/admin/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_security_headers(page.headers());
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = page.headers()[header::ETAG].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("lang=\"es-AR\""));
    assert!(!html.contains("<script>"), "no inline script");

    let again = app
        .client
        .get(app.url("/admin/"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let mut total = 0;
    for src in html
        .split('"')
        .filter(|s| s.starts_with("/admin/assets/"))
        .collect::<std::collections::BTreeSet<_>>()
    {
        let r = app
            .client
            .get(app.url(src))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        assert_security_headers(r.headers());
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip", "{src}");
        assert!(
            r.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable"),
            "{src}"
        );
        total += r.bytes().await.unwrap().len();
    }
    assert!(total > 0 && total < 100 * 1024, "{total} bytes of assets");
    let stale = app.get("/admin/assets/app.0000000000000000.js").await;
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
    let json_api = app.get("/api/v1/accommodations").await;
    assert_security_headers(json_api.headers());
}

/// Reads an admin JSON resource with the test's bearer token.
async fn admin_json(app: &TestApp, path: &str) -> Value {
    body(app.admin_get(path).await).await
}
