//! Mercado Pago deposits over real HTTP: the app on 127.0.0.1:0 with a real store, a fake
//! Mercado Pago API on 127.0.0.1 scripted by each test, notifications signed as documented.

mod common;

use std::time::{Duration, Instant};

use alojamientos::config::RawSettings;
use alojamientos::secret::hmac_sha256_hex;
use common::binary::{command, create_room, login, start_with};
use common::fake_mp::{self, FakeMp, Fault, TOKEN, payment};
use common::{TestApp, body, day, eventually, reserve_body};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

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

#[tokio::test]
async fn only_notifications_signed_as_documented_are_accepted() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |_| {}).await;
    let before = app
        .metric(
            "webhook_signature_invalid_total",
            &[("source", "mercadopago")],
        )
        .await;
    let id = "1234567890";
    let path = format!("{WEBHOOK}?data.id={id}&type=payment");
    let ts = now_s();
    let good = signature(SECRET, id, "req-1", ts);
    let r = send(&app, &path, Some(good.clone()), notification_body(id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "accepted");

    let v1 = good.split_once(",v1=").unwrap().1.to_owned();
    let tampered = format!("{WEBHOOK}?data.id=1234567891&type=payment");
    let cases: Vec<(&str, &str, Option<String>)> = vec![
        (
            "wrong secret",
            path.as_str(),
            Some(signature("other", id, "req-1", ts)),
        ),
        ("tampered data.id", tampered.as_str(), Some(good.clone())),
        ("missing ts", path.as_str(), Some(format!("v1={v1}"))),
        (
            "stale ts",
            path.as_str(),
            Some(signature(SECRET, id, "req-1", ts - 301)),
        ),
        ("malformed", path.as_str(), Some("sha256=abcdef".to_owned())),
        ("no header", path.as_str(), None),
        (
            "other request id",
            path.as_str(),
            Some(signature(SECRET, id, "req-2", ts)),
        ),
    ];
    for (what, path, sig) in &cases {
        let r = send(&app, path, sig.clone(), notification_body(id)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(body(r).await["error"], "invalid_signature", "{what}");
    }
    let after = app
        .metric(
            "webhook_signature_invalid_total",
            &[("source", "mercadopago")],
        )
        .await;
    assert!(after - before >= cases.len() as f64, "{before} -> {after}");

    // Alphanumeric ids are lower-cased in the manifest; the original path is accepted too.
    let ts = now_s();
    let sig = signature(SECRET, "abc123", "req-1", ts);
    let r = send(
        &app,
        "/api/v1/mercadopago/webhook?data.id=ABC123&type=merchant_order",
        Some(sig),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "ignored");
}

#[tokio::test]
async fn without_a_secret_the_webhook_refuses_everything_and_health_says_so() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |raw| raw.mercadopago.webhook_secret = String::new()).await;
    let id = "555";
    let sig = signature("", id, "req-1", now_s());
    let r = send(
        &app,
        &format!("{WEBHOOK}?data.id={id}&type=payment"),
        Some(sig),
        notification_body(id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(r).await["error"], "webhook_not_configured");
    let h = health(&app).await;
    assert_eq!(h["checks"]["mercadopago"]["webhook"], "not_configured");
    assert_eq!(h["checks"]["mercadopago"]["status"], "configured");
    assert_eq!(h["status"], "degraded");

    let off = TestApp::spawn().await;
    let h = health(&off).await;
    assert_eq!(h["checks"]["mercadopago"]["status"], "not_configured");
    let acc = off.accommodation(json!({})).await;
    let held = hold(&off, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    let r = guest_link(&off, &held).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(r).await["error"], "payments_not_configured");
}

#[tokio::test]
async fn hold_link_notification_and_confirmation_over_real_http() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    let url = held.created["payment_url"]
        .as_str()
        .expect("a payment link");
    assert!(url.contains("pref_id=pref-1"), "{url}");

    let prefs = fake.preferences();
    assert_eq!(prefs.len(), 1);
    let p = &prefs[0];
    assert_eq!(p["external_reference"], held.code.as_str());
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert_eq!(p["items"][0]["currency_id"], "ARS");
    assert_eq!(p["items"][0]["quantity"], 1);
    assert_eq!(
        p["items"][0]["unit_price"].as_f64().unwrap(),
        held.deposit.parse::<f64>().unwrap()
    );
    assert_eq!(
        p["notification_url"],
        "http://127.0.0.1:8080/api/v1/webhooks/mercadopago"
    );
    assert_eq!(p["back_urls"]["success"], "http://127.0.0.1:8080/pagado");
    assert_eq!(p["expires"], true);
    let expires: jiff::Timestamp = held.created["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let to: jiff::Timestamp = p["expiration_date_to"].as_str().unwrap().parse().unwrap();
    assert_eq!(to.as_second(), expires.as_second());

    // The guest's own view and the on-demand link give the same preference.
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["payment_url"], url);
    assert_eq!(fake.preferences().len(), 1, "a live link is reused");

    fake.set_payment(payment("9001", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9001").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    assert_eq!(r["payment_status"], "partially_paid");
    assert_eq!(r["paid_amount"], held.deposit.as_str());
    assert_eq!(r["payment_url"], Value::Null);

    let guest = app
        .client
        .get(app.url(&format!("/api/v1/reservations/{}", held.code)))
        .bearer_auth(&held.token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(guest).await["status"], "confirmed");
    let payments = payments_of(&app, &held.code).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["status"], "approved");
    assert_eq!(payments[0]["counted"], true);
    let kinds = outbox_kinds(&app, &held.code).await;
    assert!(
        kinds.contains(&"booking_confirmed:guest".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"booking_confirmed:host".to_owned()),
        "{kinds:?}"
    );
    assert!(
        app.metric("payments_total", &[("status", "approved")])
            .await
            >= 1.0
    );
    assert!(api_calls(&app, "payment", "ok").await >= 1.0);
}

#[tokio::test]
async fn a_replayed_hold_request_shows_the_same_link() {
    let (fake, app, acc) = setup(|_| {}).await;
    let request = || {
        app.client
            .post(app.url("/api/v1/reservations"))
            .header("idempotency-key", "hold-once")
            .json(&reserve_body(acc, &day(30), &day(33)))
    };
    let first = body(request().send().await.unwrap()).await;
    let again = body(request().send().await.unwrap()).await;
    assert_eq!(first["code"], again["code"]);
    assert!(first["payment_url"].is_string());
    assert_eq!(first["payment_url"], again["payment_url"]);
    assert_eq!(fake.preferences().len(), 1);
}

#[tokio::test]
async fn duplicate_and_concurrent_notifications_count_once() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9002", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9002").await;
    wait_status(&app, &held.code, "confirmed").await;
    // Counted before the duplicates: the worker may look at all of them before they are all
    // answered.
    let hits = fake.hits("payment");
    notify(&app, "9002").await;

    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let client = app.client.clone();
        let (path, sig, body) = if i % 2 == 0 {
            let sig = signature(SECRET, "9002", "req-1", now_s());
            (
                format!("{WEBHOOK}?data.id=9002&type=payment"),
                sig,
                notification_body("9002"),
            )
        } else {
            // The older IPN form on the original path: no data.id, so none in the manifest.
            let ts = now_s();
            let manifest = format!("request-id:req-1;ts:{ts};");
            let sig = format!(
                "ts={ts},v1={}",
                hmac_sha256_hex(SECRET.as_bytes(), manifest.as_bytes())
            );
            (
                "/api/v1/mercadopago/webhook?topic=payment&id=9002".to_owned(),
                sig,
                Value::Null,
            )
        };
        let url = app.url(&path);
        set.spawn(async move {
            let mut req = client
                .post(url)
                .header("x-signature", sig)
                .header("x-request-id", "req-1");
            if !body.is_null() {
                req = req.json(&body);
            }
            req.send().await.unwrap().status()
        });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert!(
        eventually(WAIT, || async { fake.hits("payment") > hits }).await,
        "the duplicates were looked at"
    );
    let record = wait_payment(&app, "9002", |p| p["events"].as_u64().unwrap() >= 2).await;
    assert_eq!(record["history"].as_array().unwrap().len(), 1);
    assert!(
        eventually(WAIT, || async {
            health(&app).await["checks"]["mercadopago"]["pending_notifications"] == 0
        })
        .await,
        "the inbox drains"
    );
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(confirmations(&r), 1);
    assert_eq!(r["paid_amount"], held.deposit.as_str(), "counted once");
    assert_eq!(payments_of(&app, &held.code).await.len(), 1);
    let confirmed = outbox_kinds(&app, &held.code).await;
    assert_eq!(
        confirmed
            .iter()
            .filter(|k| k.starts_with("booking_confirmed"))
            .count(),
        2
    );
}

#[tokio::test]
async fn statuses_out_of_order_never_undo_a_decision() {
    let (fake, app, acc) = setup(|_| {}).await;

    // pending, then approved
    let a = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9003", "pending", &a.deposit, Some(&a.code)));
    notify(&app, "9003").await;
    wait_payment(&app, "9003", |p| p["status"] == "pending").await;
    assert_eq!(reservation(&app, &a.code).await["status"], "pre_reserved");
    fake.set_payment(payment("9003", "approved", &a.deposit, Some(&a.code)));
    notify(&app, "9003").await;
    wait_status(&app, &a.code, "confirmed").await;
    let record = payment_record(&app, "9003").await.unwrap();
    let seen: Vec<&str> = record["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["pending", "approved"]);

    // approved, then a stale pending
    let b = hold(&app, acc, 40, 43).await;
    fake.script_payment(vec![
        payment("9004", "approved", &b.deposit, Some(&b.code)),
        payment("9004", "pending", &b.deposit, Some(&b.code)),
    ]);
    notify(&app, "9004").await;
    wait_status(&app, &b.code, "confirmed").await;
    notify(&app, "9004").await;
    let record = wait_payment(&app, "9004", |p| p["events"] == 2).await;
    assert_eq!(record["status"], "approved");
    assert_eq!(record["history"].as_array().unwrap().len(), 1);
    let r = reservation(&app, &b.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["paid_amount"], b.deposit.as_str());
}

#[tokio::test]
async fn a_payment_under_the_deposit_keeps_the_hold_and_tells_the_host() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    let short = format!("{}", held.deposit.parse::<f64>().unwrap() - 1.0);
    fake.set_payment(payment("9005", "approved", &short, Some(&held.code)));
    notify(&app, "9005").await;
    let record = wait_payment(&app, "9005", |p| p["status"] == "approved").await;
    assert_eq!(record["flags"], json!(["amount_mismatch"]));
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "pre_reserved");
    assert_eq!(r["payment_status"], "underpaid");
    let flagged = body(
        app.admin_get("/api/v1/admin/payments?flag=amount_mismatch")
            .await,
    )
    .await;
    assert_eq!(flagged.as_array().unwrap().len(), 1);
    assert!(
        outbox_kinds(&app, &held.code)
            .await
            .contains(&"payment_under_deposit:host".to_owned())
    );
    assert!(app.metric("payment_amount_mismatch_total", &[]).await >= 1.0);

    // Another payment covering the rest confirms the hold.
    fake.set_payment(payment("9006", "approved", "1", Some(&held.code)));
    notify(&app, "9006").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    assert_eq!(r["paid_amount"], held.deposit.as_str());
    assert_eq!(payments_of(&app, &held.code).await.len(), 2);
}

#[tokio::test]
async fn a_late_payment_confirms_when_the_dates_are_still_free() {
    let (fake, app, acc) = setup(|raw| raw.reservations.hold_duration = "1s".into()).await;
    let held = hold(&app, acc, 30, 33).await;
    wait_status(&app, &held.code, "expired").await;
    fake.set_payment(payment("9007", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9007").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    let last = r["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["to"].as_str()),
        (Some("expired"), Some("confirmed"))
    );
    let taken = app.reserve(acc, &day(31), &day(32)).await;
    assert_eq!(
        taken.status(),
        StatusCode::CONFLICT,
        "the revived stay holds its dates"
    );
}

#[tokio::test]
async fn a_late_payment_for_taken_dates_needs_a_refund_and_never_double_books() {
    let (fake, app, acc) = setup(|raw| raw.reservations.hold_duration = "1s".into()).await;
    let first = hold(&app, acc, 30, 33).await;
    wait_status(&app, &first.code, "expired").await;
    let second = hold(&app, acc, 31, 34).await;
    let before = app.metric("payments_needs_refund_total", &[]).await;
    fake.set_payment(payment(
        "9008",
        "approved",
        &first.deposit,
        Some(&first.code),
    ));
    notify(&app, "9008").await;
    let record = wait_payment(&app, "9008", |p| p["status"] == "approved").await;
    assert_eq!(record["flags"], json!(["needs_refund"]));
    let r = reservation(&app, &first.code).await;
    assert_eq!(r["status"], "expired");
    assert_eq!(r["payment_status"], "needs_refund");
    assert_eq!(
        reservation(&app, &second.code).await["status"],
        "pre_reserved"
    );
    let refunds = body(
        app.admin_get("/api/v1/admin/payments?flag=needs_refund")
            .await,
    )
    .await;
    assert_eq!(refunds.as_array().unwrap().len(), 1);
    assert!(
        outbox_kinds(&app, &first.code)
            .await
            .contains(&"payment_needs_refund:host".to_owned())
    );
    assert!(app.metric("payments_needs_refund_total", &[]).await > before);
}

#[tokio::test]
async fn orphan_payments_are_kept_for_the_host() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |_| {}).await;
    fake.set_payment(payment("9009", "approved", "100", Some("RES991231ABCDEF")));
    fake.set_payment(payment("9010", "approved", "100", None));
    notify(&app, "9009").await;
    notify(&app, "9010").await;
    for id in ["9009", "9010"] {
        let record = wait_payment(&app, id, |p| p["status"] == "approved").await;
        assert_eq!(record["flags"], json!(["orphan"]), "{id}");
    }
    let orphans = body(app.admin_get("/api/v1/admin/payments?flag=orphan").await).await;
    assert_eq!(orphans.as_array().unwrap().len(), 2);
    let r = app.admin_get("/api/v1/admin/payments?flag=bogus").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_refund_on_a_confirmed_stay_is_flagged_not_cancelled() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9011", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9011").await;
    wait_status(&app, &held.code, "confirmed").await;
    fake.set_payment(payment("9011", "refunded", &held.deposit, Some(&held.code)));
    notify(&app, "9011").await;
    let record = wait_payment(&app, "9011", |p| p["status"] == "refunded").await;
    assert_eq!(record["flags"], json!(["reversed"]));
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["payment_status"], "reversed");
    assert_eq!(r["paid_amount"], "0.00");
    assert!(
        outbox_kinds(&app, &held.code)
            .await
            .contains(&"payment_reversed:host".to_owned())
    );
}

#[tokio::test]
async fn api_failures_are_retried_and_a_hold_stands_without_a_link() {
    let (fake, app, acc) = setup(|_| {}).await;

    // Mercado Pago down while the hold is taken: the hold stands, without a link.
    fake.fail("preferences", &[Fault::Status(500)]);
    let held = hold(&app, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    assert_eq!(
        fake.hits("preferences"),
        1,
        "one attempt while the guest waits"
    );
    assert_eq!(
        health(&app).await["checks"]["mercadopago"]["status"],
        "failing"
    );

    // On demand, a 503 and a timeout are retried.
    fake.fail(
        "preferences",
        &[Fault::Status(503), Fault::Delay(Duration::from_secs(2))],
    );
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        body(r).await["payment_url"]
            .as_str()
            .unwrap()
            .contains("pref_id=")
    );
    assert_eq!(fake.hits("preferences"), 4);
    assert_eq!(
        health(&app).await["checks"]["mercadopago"]["status"],
        "configured"
    );

    // Fetching the payment: a 500 and a timeout, then the answer.
    fake.fail(
        "payment",
        &[Fault::Status(500), Fault::Delay(Duration::from_secs(2))],
    );
    fake.set_payment(payment("9012", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9012").await;
    wait_status(&app, &held.code, "confirmed").await;
    assert!(fake.hits("payment") >= 3);
    assert!(api_calls(&app, "payment", "server_error").await >= 1.0);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let (fake, app, acc) = setup(|_| {}).await;
    fake.fail("preferences", &[Fault::Status(500)]);
    let held = hold(&app, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    let before = fake.hits("preferences");
    fake.fail("preferences", &[Fault::Status(400)]);
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(body(r).await["error"], "payment_provider_unavailable");
    assert_eq!(fake.hits("preferences"), before + 1, "a 400 is not retried");
    let r = app
        .admin_post(
            &format!("/api/v1/admin/reservations/{}/payment-link", held.code),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the host can ask again");
    assert_eq!(body(r).await["code"], held.code.as_str());
    assert!(
        reservation(&app, &held.code).await["payment_url"].is_string(),
        "the new link is on the hold"
    );
}

#[tokio::test]
async fn reconciliation_recovers_a_lost_notification() {
    let (fake, app, acc) = setup(|raw| raw.mercadopago.reconcile = "* * * * * *".into()).await;
    let held = hold(&app, acc, 30, 33).await;
    assert!(held.created["payment_url"].is_string());
    fake.set_payment(payment("9013", "approved", &held.deposit, Some(&held.code)));
    wait_status(&app, &held.code, "confirmed").await;
    assert!(fake.hits("search") >= 1);
    assert_eq!(fake.hits("payment"), 0, "no notification was ever received");
    assert_eq!(payments_of(&app, &held.code).await.len(), 1);
}

#[tokio::test]
async fn a_recorded_notification_survives_a_crash() {
    let fake = FakeMp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let with_mp = |dir: &std::path::Path| {
        let mut c = command(dir);
        for (key, value) in [
            ("API_BASE_URL", fake.url().as_str()),
            ("ACCESS_TOKEN", TOKEN),
            ("WEBHOOK_SECRET", SECRET),
            ("RETRY_BASE", "10ms"),
            ("RETRY_CAP", "50ms"),
            ("INBOX_SWEEP", "100ms"),
            ("RECONCILE", "0 0 0 1 1 *"),
        ] {
            c.env(format!("ALOJAMIENTOS_MERCADOPAGO__{key}"), value);
        }
        c
    };
    let mut server = start_with(with_mp(dir.path())).await;
    let client = Client::new();
    let email = "admin@alojamientos.local";
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, email, &password).await;
    let acc = create_room(&client, &server.base, &token, "A").await;
    let r = client
        .post(format!("{}/api/v1/reservations", server.base))
        .json(&reserve_body(acc, &day(30), &day(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = body(r).await;
    let code = created["code"].as_str().unwrap().to_owned();
    let deposit = created["deposit_amount"].as_str().unwrap().to_owned();

    // Mercado Pago cannot show the payment yet: the notification waits in the inbox.
    fake.fail("payment", &[Fault::Status(500); 1000]);
    fake.set_payment(payment("9014", "approved", &deposit, Some(&code)));
    notify_at(&client, &server.base, "9014").await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    fake.clear_faults();
    let restarted = start_with(with_mp(dir.path())).await;
    let token = login(&client, &restarted.base, email, &password).await;
    let url = format!("{}/api/v1/admin/reservations/{code}", restarted.base);
    let confirmed = eventually(WAIT, || async {
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        body(r).await["status"] == "confirmed"
    })
    .await;
    assert!(
        confirmed,
        "the notification recorded before the crash was processed after it"
    );
}
