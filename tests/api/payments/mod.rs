//! Mercado Pago deposits over real HTTP: the app on 127.0.0.1:0 with a real store, a fake
//! Mercado Pago API on 127.0.0.1 scripted by each test, notifications signed as documented.

use std::time::{Duration, Instant};

use crate::helpers::binary::{command, create_room, login, start_with};
use crate::helpers::fake_mp::{self, FakeMp, Fault, TOKEN, payment};
use crate::helpers::{TestApp, body, day, eventually, reserve_body};
use alojamientos::config::RawSettings;
use alojamientos::secret::hmac_sha256_hex;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

mod deposits;
mod signed_id;
mod webhook;

const SECRET: &str = fake_mp::WEBHOOK_SECRET;
const WEBHOOK: &str = "/api/v1/webhooks/mercadopago";
const WAIT: Duration = Duration::from_secs(15);

/// Payments on, pointed at `fake`, with fast retries and reconciliation out of the way.
async fn spawn(fake: &FakeMp, configure: impl FnOnce(&mut RawSettings)) -> TestApp {
    let url = fake.url();
    TestApp::spawn_with(move |raw| {
        fake_mp::configure(raw, url);
        let mp = &mut raw.mercadopago;
        mp.public_base_url = "http://127.0.0.1:8080".into();
        mp.success_url = "http://127.0.0.1:8080/pagado".into();
        mp.timeout = "500ms".into();
        mp.max_retries = 2;
        mp.retry_base = "10ms".into();
        mp.retry_cap = "50ms".into();
        configure(raw);
    })
    .await
}

/// A fake Mercado Pago, the app pointed at it, and one accommodation.
async fn setup(configure: impl FnOnce(&mut RawSettings)) -> (FakeMp, TestApp, u64) {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, configure).await;
    let acc = app.accommodation(json!({})).await;
    (fake, app, acc)
}

/// The guest asks for their hold's payment link.
async fn guest_link(app: &TestApp, held: &Hold) -> Response {
    let path = format!("/api/v1/reservations/{}/payment-link", held.code);
    let req = app.client.post(app.url(&path)).bearer_auth(&held.token);
    req.send().await.unwrap()
}

/// Mercado Pago API attempts counted for `endpoint` with `result`.
async fn api_calls(app: &TestApp, endpoint: &str, result: &str) -> f64 {
    app.metric(
        "mercadopago_api_requests_total",
        &[("endpoint", endpoint), ("result", result)],
    )
    .await
}

struct Hold {
    code: String,
    token: String,
    deposit: String,
    created: Value,
}

async fn hold(app: &TestApp, acc: u64, from: i64, to: i64) -> Hold {
    let r = app.reserve(acc, &day(from), &day(to)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = body(r).await;
    Hold {
        code: created["code"].as_str().unwrap().to_owned(),
        token: created["access_token"].as_str().unwrap().to_owned(),
        deposit: created["deposit_amount"].as_str().unwrap().to_owned(),
        created,
    }
}

fn now_s() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// `x-signature` as Mercado Pago documents it, over `id:…;request-id:…;ts:…;`.
fn signature(secret: &str, data_id: &str, request_id: &str, ts: i64) -> String {
    let manifest = format!("id:{data_id};request-id:{request_id};ts:{ts};");
    format!(
        "ts={ts},v1={}",
        hmac_sha256_hex(secret.as_bytes(), manifest.as_bytes())
    )
}

fn notification_body(id: &str) -> Value {
    json!({
        "action": "payment.updated", "api_version": "v1", "data": {"id": id},
        "date_created": "2026-11-28T12:00:00Z", "id": 123456, "live_mode": false,
        "type": "payment", "user_id": "44444"
    })
}

async fn send_to(client: &Client, url: String, sig: Option<String>, body: Value) -> Response {
    let mut req = client.post(url).header("x-request-id", "req-1").json(&body);
    if let Some(sig) = sig {
        req = req.header("x-signature", sig);
    }
    req.send().await.unwrap()
}

async fn send(app: &TestApp, path: &str, sig: Option<String>, body: Value) -> Response {
    send_to(&app.client, app.url(path), sig, body).await
}

/// A correctly signed, modern notification about payment `id`, to the server at `base`.
async fn notify_at(client: &Client, base: &str, id: &str) -> Response {
    let sig = signature(SECRET, id, "req-1", now_s());
    let url = format!("{base}{WEBHOOK}?data.id={id}&type=payment");
    let r = send_to(client, url, Some(sig), notification_body(id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r
}

async fn notify(app: &TestApp, id: &str) -> Response {
    notify_at(&app.client, &app.url(""), id).await
}

async fn reservation(app: &TestApp, code: &str) -> Value {
    body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await
}

async fn payments_of(app: &TestApp, code: &str) -> Vec<Value> {
    let r = app
        .admin_get(&format!("/api/v1/admin/reservations/{code}/payments"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await.as_array().unwrap().clone()
}

async fn payment_record(app: &TestApp, id: &str) -> Option<Value> {
    let all = body(app.admin_get("/api/v1/admin/payments").await).await;
    all.as_array()?.iter().find(|p| p["id"] == id).cloned()
}

async fn wait_status(app: &TestApp, code: &str, status: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = reservation(app, code).await;
        if r["status"] == status {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{code} never became {status}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_payment(app: &TestApp, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let record = payment_record(app, id).await;
        if let Some(p) = record.as_ref().filter(|p| check(p)) {
            return p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "payment {id} never matched: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn outbox_kinds(app: &TestApp, code: &str) -> Vec<String> {
    body(app.admin_get("/api/v1/admin/outbox").await)
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reservation_code"] == code)
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["audience"].as_str().unwrap()
            )
        })
        .collect()
}

async fn health(app: &TestApp) -> Value {
    body(app.get("/api/v1/healthz").await).await
}

fn confirmations(r: &Value) -> usize {
    r["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["to"] == "confirmed")
        .count()
}
