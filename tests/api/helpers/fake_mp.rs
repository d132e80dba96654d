//! A fake Mercado Pago API on 127.0.0.1 that tests script: payments to report (in order),
//! faults to inject per endpoint, and a log of what it was asked. Its `init_point` is a
//! checkout page of its own: "Pagar" approves the deposit, notifies the preference's
//! `notification_url` (signed as Mercado Pago signs) and sends the guest to `back_urls.success`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The access token the fake accepts.
pub const TOKEN: &str = "TEST-fake-access-token";

/// The webhook secret [`configure`] sets: notifications are signed with it.
pub const WEBHOOK_SECRET: &str = "mp-secret";

/// Points the app's Mercado Pago settings at the fake at `url`: its token, [`WEBHOOK_SECRET`],
/// a 100 ms inbox sweep and a reconciliation that never comes during a test.
pub fn configure(raw: &mut alojamientos::config::RawSettings, url: String) {
    let m = &mut raw.mercadopago;
    m.api_base_url = url;
    m.access_token = TOKEN.into();
    m.webhook_secret = WEBHOOK_SECRET.into();
    m.inbox_sweep = "100ms".into();
    m.reconcile = "0 0 0 1 1 *".into();
}

/// Tells the app, as Mercado Pago does, that payment `id` changed.
pub async fn notify_payment(app: &super::TestApp, id: &str) {
    let endpoint = app.url("/api/v1/webhooks/mercadopago");
    let r = send_notification(&app.client, &endpoint, id).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

/// Posts a notification about payment `id` to `endpoint`, signed as Mercado Pago signs.
async fn send_notification(
    client: &reqwest::Client,
    endpoint: &str,
    id: &str,
) -> reqwest::Response {
    let ts = jiff::Timestamp::now().as_second();
    let manifest = format!("id:{id};request-id:req-{id};ts:{ts};");
    let sig = format!(
        "ts={ts},v1={}",
        alojamientos::secret::hmac_sha256_hex(WEBHOOK_SECRET.as_bytes(), manifest.as_bytes())
    );
    client
        .post(format!("{endpoint}?data.id={id}&type=payment"))
        .header("x-signature", sig)
        .header("x-request-id", format!("req-{id}"))
        .json(&json!({"type": "payment", "data": {"id": id}}))
        .send()
        .await
        .unwrap()
}

/// Something to do instead of (or before) answering.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Status(u16),
    /// Wait this long, then answer normally (the client should have timed out).
    Delay(Duration),
}

#[derive(Default)]
struct FakeState {
    /// This server's own address, for the checkout pages' links.
    url: String,
    /// Payment id → the answers to give, in order; the last one repeats.
    payments: HashMap<String, VecDeque<Value>>,
    faults: HashMap<&'static str, VecDeque<Fault>>,
    hits: HashMap<&'static str, usize>,
    preferences: Vec<Value>,
    /// Requests inside a [`Fault::Delay`] now, and the most there ever were.
    delayed: usize,
    most_delayed: usize,
}

#[derive(Clone)]
pub struct FakeMp {
    pub addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
}

/// A payment object as the API returns it.
pub fn payment(id: &str, status: &str, amount: &str, reference: Option<&str>) -> Value {
    json!({
        "id": id.parse::<u64>().unwrap(),
        "status": status,
        "status_detail": if status == "approved" { "accredited" } else { "pending_contingency" },
        "transaction_amount": amount.parse::<f64>().unwrap(),
        "currency_id": "ARS",
        "external_reference": reference,
        "date_approved": null,
        "live_mode": false,
    })
}

impl FakeMp {
    pub async fn start() -> FakeMp {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = axum::Router::new()
            .route("/checkout/preferences", post(preference))
            .route("/v1/payments/search", get(search))
            .route("/v1/payments/{id}", get(fetch))
            .route("/checkout/v1/redirect", get(checkout))
            .route("/checkout/v1/pay", post(pay))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        state.lock().unwrap().url = format!("http://{addr}");
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeMp { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on the API reports `value` for its payment id.
    pub fn set_payment(&self, value: Value) {
        self.script_payment(vec![value]);
    }

    /// The API reports these, one per request, then keeps reporting the last.
    pub fn script_payment(&self, values: Vec<Value>) {
        let id = values[0]["id"].to_string();
        self.state
            .lock()
            .unwrap()
            .payments
            .insert(id, values.into());
    }

    /// The next requests to `endpoint` (`preferences`, `payment`, `search`) meet these faults.
    pub fn fail(&self, endpoint: &'static str, faults: &[Fault]) {
        let mut s = self.state.lock().unwrap();
        s.faults.entry(endpoint).or_default().extend(faults);
    }

    /// Forgets every fault still queued.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Requests `endpoint` received.
    pub fn hits(&self, endpoint: &'static str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// The most requests that were waiting in a [`Fault::Delay`] at once.
    pub fn most_delayed_at_once(&self) -> usize {
        self.state.lock().unwrap().most_delayed
    }

    /// Bodies of the preferences created.
    pub fn preferences(&self) -> Vec<Value> {
        self.state.lock().unwrap().preferences.clone()
    }
}

type Shared = State<Arc<Mutex<FakeState>>>;

/// Counts the request, checks the token and applies the next fault, if any.
async fn gate(
    state: &Arc<Mutex<FakeState>>,
    endpoint: &'static str,
    headers: &HeaderMap,
) -> Option<Response> {
    let fault = {
        let mut s = state.lock().unwrap();
        *s.hits.entry(endpoint).or_default() += 1;
        s.faults.get_mut(endpoint).and_then(VecDeque::pop_front)
    };
    match fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap();
            return Some(
                (
                    status,
                    Json(json!({"message": "scripted failure", "status": code})),
                )
                    .into_response(),
            );
        }
        Some(Fault::Delay(d)) => {
            {
                let mut s = state.lock().unwrap();
                s.delayed += 1;
                s.most_delayed = s.most_delayed.max(s.delayed);
            }
            tokio::time::sleep(d).await;
            state.lock().unwrap().delayed -= 1;
        }
        None => {}
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    (!authorized).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "invalid access token"})),
        )
            .into_response()
    })
}

async fn preference(State(state): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = gate(&state, "preferences", &headers).await {
        return r;
    }
    let mut s = state.lock().unwrap();
    s.preferences.push(body);
    let id = format!("pref-{}", s.preferences.len());
    let url = format!("{}/checkout/v1/redirect?pref_id={id}", s.url);
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "init_point": url})),
    )
        .into_response()
}

fn current(s: &mut FakeState, id: &str) -> Option<Value> {
    let answers = s.payments.get_mut(id)?;
    if answers.len() > 1 {
        answers.pop_front()
    } else {
        answers.front().cloned()
    }
}

async fn fetch(State(state): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(r) = gate(&state, "payment", &headers).await {
        return r;
    }
    match current(&mut state.lock().unwrap(), &id) {
        Some(p) => Json(p).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Payment not found"})),
        )
            .into_response(),
    }
}

async fn search(
    State(state): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&state, "search", &headers).await {
        return r;
    }
    let reference = q.get("external_reference").cloned().unwrap_or_default();
    let s = state.lock().unwrap();
    let results: Vec<Value> = s
        .payments
        .values()
        .filter_map(|answers| answers.back().cloned())
        .filter(|p| p["external_reference"] == json!(reference))
        .collect();
    Json(json!({"results": results, "paging": {"total": results.len(), "limit": 30, "offset": 0}}))
        .into_response()
}

#[derive(serde::Deserialize)]
struct PrefQuery {
    pref_id: String,
}

fn find_preference(s: &FakeState, id: &str) -> Option<Value> {
    let n: usize = id.strip_prefix("pref-")?.parse().ok()?;
    s.preferences.get(n.checked_sub(1)?).cloned()
}

/// The checkout page of preference `pref_id`: its amount and a "Pagar" button (a plain form,
/// so it works with JavaScript off).
async fn checkout(State(state): Shared, Query(q): Query<PrefQuery>) -> Response {
    let Some(p) = find_preference(&state.lock().unwrap(), &q.pref_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let amount = &p["items"][0]["unit_price"];
    let html = format!(
        "<!doctype html><html lang=es><head><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>Mercado Pago (de prueba)</title></head><body style='font-family:sans-serif;padding:1rem'>\
         <h1>Mercado Pago (de prueba)</h1><p id=amount>Seña: $ {amount}</p>\
         <form method=post action='/checkout/v1/pay?pref_id={}'><button id=pay type=submit \
         style='font-size:1.2rem;padding:.8rem 1.5rem;background:#009ee3;color:#fff;border:0'>Pagar</button></form></body></html>",
        q.pref_id
    );
    ([("content-type", "text/html; charset=utf-8")], html).into_response()
}

/// Pays preference `pref_id`: the payment is approved for its amount, the app is notified as
/// Mercado Pago does, and the guest goes back to `back_urls.success`.
async fn pay(State(state): Shared, Query(q): Query<PrefQuery>) -> Response {
    let Some(p) = find_preference(&state.lock().unwrap(), &q.pref_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let id = format!(
        "{}",
        900_000 + q.pref_id.len() * 1000 + q.pref_id.bytes().map(usize::from).sum::<usize>()
    );
    let reference = p["external_reference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let amount = p["items"][0]["unit_price"].as_f64().unwrap_or_default();
    let mut approved = payment(&id, "approved", &format!("{amount:.2}"), Some(&reference));
    approved["transaction_amount"] = json!(amount);
    state
        .lock()
        .unwrap()
        .payments
        .insert(id.clone(), VecDeque::from([approved]));
    if let Some(url) = p["notification_url"].as_str() {
        let r = send_notification(&reqwest::Client::new(), url, &id).await;
        assert!(r.status().is_success(), "the app took the notification");
    }
    let back = p["back_urls"]["success"].as_str().unwrap_or("/").to_owned();
    let to = format!(
        "{back}?collection_id={id}&collection_status=approved&payment_id={id}&status=approved\
         &external_reference={reference}&preference_id={}",
        q.pref_id
    );
    (StatusCode::SEE_OTHER, [("location", to)]).into_response()
}
