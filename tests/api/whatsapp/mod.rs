//! The WhatsApp guest channel over real HTTP: the app on 127.0.0.1:0 with a real store, a fake
//! Graph API (and a fake Mercado Pago) on 127.0.0.1 scripted by each test, events signed with
//! `X-Hub-Signature-256` as Meta does.

use std::time::Duration;

use alojamientos::config::RawSettings;
use alojamientos::secret::hmac_sha256_hex;

use crate::helpers::binary::{command_with, start_with};
use crate::helpers::fake_graph::{self, FakeGraph, PHONE_ID, post_event, shown};
use crate::helpers::fake_mp::{self, FakeMp};
use crate::helpers::{TestApp, body, day, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod booking;
mod host;
mod limits;
mod panics;
mod webhook;

const SECRET: &str = fake_graph::APP_SECRET;
const VERIFY: &str = "test-verify-token";
const HOOK: &str = "/api/v1/webhooks/whatsapp";
const HOST: &str = "5491100000000";
const WAIT: Duration = Duration::from_secs(15);

fn configure(raw: &mut RawSettings, graph: &FakeGraph) {
    graph.configure(raw);
    let wa = &mut raw.whatsapp;
    wa.app_secret = SECRET.into();
    wa.verify_token = VERIFY.into();
    wa.host_phone = HOST.into();
    wa.outbox_sweep = "50ms".into();
    wa.retry_base = "10ms".into();
    wa.retry_cap = "50ms".into();
    wa.timeout = "2s".into();
}

/// A fake Graph API and an app whose bot talks to it (quick sweeps and retries).
pub(crate) async fn setup(extra: impl FnOnce(&mut RawSettings)) -> (FakeGraph, TestApp) {
    let graph = FakeGraph::start().await;
    let g = graph.clone();
    let app = TestApp::spawn_with(move |raw| {
        configure(raw, &g);
        extra(raw);
    })
    .await;
    (graph, app)
}

/// `d/m/yyyy` of the date `days` from today.
fn dmy(days: i64) -> String {
    let d: jiff::civil::Date = day(days).parse().unwrap();
    format!("{}/{}/{}", d.day(), d.month(), d.year())
}

fn text(id: &str, from: &str, body: &str) -> Value {
    json!({"from": from, "id": id, "timestamp": jiff::Timestamp::now().as_second().to_string(),
        "type": "text", "text": {"body": body}})
}

fn button(id: &str, from: &str, reply: &str) -> Value {
    json!({"from": from, "id": id, "timestamp": jiff::Timestamp::now().as_second().to_string(),
        "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": reply, "title": "x"}}})
}

/// One entry with one change holding `messages` (and `statuses`).
fn payload(messages: Vec<Value>, statuses: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5491155550000", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5491122334455"}],
            "messages": messages, "statuses": statuses}}]}]})
}

async fn post_signed(app: &TestApp, body: &Value) -> reqwest::Response {
    post_event(&app.client, &app.url(""), body).await
}

/// Sends one text from `from` and waits until the guest has `replies` messages in total.
async fn say(
    app: &TestApp,
    graph: &FakeGraph,
    id: &str,
    from: &str,
    words: &str,
    replies: usize,
) -> Value {
    let r = post_signed(app, &payload(vec![text(id, from, words)], vec![])).await;
    assert_eq!(r.status(), StatusCode::OK);
    wait_replies(graph, from, replies).await
}

async fn wait_replies(graph: &FakeGraph, to: &str, n: usize) -> Value {
    let ok = eventually(WAIT, || async { graph.sent_to(to).len() >= n }).await;
    let sent = graph.sent_to(to);
    assert!(ok, "waited for {n} messages to {to}, got {sent:#?}");
    sent[n - 1].clone()
}
