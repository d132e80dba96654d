//! A fake WhatsApp Cloud API (Graph API) on 127.0.0.1 that tests script: it records every
//! message sent, answers with `wamid`s, and injects faults (status codes) in order.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The access token the fake accepts.
pub const TOKEN: &str = "TEST-graph-token";
/// The business phone number id.
pub const PHONE_ID: &str = "1029384756";
pub const VERSION: &str = "v21.0";
/// The app secret the tests configure: Meta signs events with it.
pub const APP_SECRET: &str = "test-app-secret";

#[derive(Default)]
struct FakeState {
    sent: Vec<Value>,
    faults: VecDeque<u16>,
    attempts: usize,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
}

async fn messages(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if version != VERSION || phone != PHONE_ID || auth != Some(&format!("Bearer {TOKEN}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": 190}})),
        )
            .into_response();
    }
    let mut s = state.lock().unwrap();
    s.attempts += 1;
    if let Some(status) = s.faults.pop_front() {
        let mut r = (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({"error": {"code": 131000}})),
        )
            .into_response();
        if status == 429 {
            r.headers_mut().insert("retry-after", "0".parse().unwrap());
        }
        return r;
    }
    s.sent.push(body);
    let id = format!("wamid.TEST{}", s.sent.len());
    Json(json!({"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": id}]}))
        .into_response()
}

/// `GET /{version}/{media id}`: the media's short-lived URL.
async fn media_info(
    State(_): State<Arc<Mutex<FakeState>>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Json(json!({"url": format!("http://{host}/media/{id}"), "mime_type": "audio/ogg", "id": id}))
        .into_response()
}

/// `GET /media/{id}`: the bytes of a voice note (needs the token, as Meta's CDN does).
async fn media_file(headers: HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    b"OggS fake voice note".to_vec().into_response()
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = axum::Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .route("/media/{id}", axum::routing::get(media_file))
            .route("/{version}/{id}", axum::routing::get(media_info))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGraph { addr, state }
    }

    /// Points the app's WhatsApp settings at this fake: its URL, API version, phone number id
    /// and access token.
    pub fn configure(&self, raw: &mut alojamientos::config::RawSettings) {
        let wa = &mut raw.whatsapp;
        wa.api_base_url = self.url();
        wa.api_version = VERSION.into();
        wa.phone_number_id = PHONE_ID.into();
        wa.access_token = TOKEN.into();
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next requests answer these statuses, in order.
    pub fn fail(&self, statuses: &[u16]) {
        self.state.lock().unwrap().faults.extend(statuses);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Every message accepted, in order.
    pub fn sent(&self) -> Vec<Value> {
        self.state.lock().unwrap().sent.clone()
    }

    /// Messages accepted for `to`.
    pub fn sent_to(&self, to: &str) -> Vec<Value> {
        self.sent().into_iter().filter(|m| m["to"] == to).collect()
    }

    /// Requests received, failed ones included.
    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().attempts
    }
}

/// The text a sent message shows the guest (body of a text, interactive or template).
/// Posts `event` to the WhatsApp webhook of the app at `base`, signed with [`APP_SECRET`] as
/// Meta does.
pub async fn post_event(client: &reqwest::Client, base: &str, event: &Value) -> reqwest::Response {
    let raw = event.to_string();
    let sig = format!(
        "sha256={}",
        alojamientos::secret::hmac_sha256_hex(APP_SECRET.as_bytes(), raw.as_bytes())
    );
    client
        .post(format!("{base}/api/v1/webhooks/whatsapp"))
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap()
}

pub fn shown(m: &Value) -> String {
    match m["type"].as_str() {
        Some("text") => m["text"]["body"].as_str().unwrap_or("").to_owned(),
        Some("interactive") => m["interactive"]["body"]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        Some("template") => m["template"]["components"][0]["parameters"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        _ => String::new(),
    }
}
