//! Benchmark driver for the WhatsApp channel of a running server (see `bench/whatsapp.sh`): it
//! serves a fake Graph API on 127.0.0.1, sends signed text messages to the webhook at a fixed
//! rate (open loop: a slow answer never delays the next message), and reports how long the
//! webhook took to acknowledge each one and how long until its reply reached the Graph API.
//!
//! Environment: `BENCH_BASE` (the server, e.g. http://127.0.0.1:18083), `BENCH_SECRET` (its
//! `whatsapp.app_secret`), `BENCH_GRAPH_PORT` (where the server's `whatsapp.api_base_url`
//! points), `BENCH_RATE` (messages per second, 200), `BENCH_SECONDS` (30), `BENCH_PHONES`
//! (guests writing, 200; each writes once every `BENCH_PHONES / BENCH_RATE` seconds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alojamientos::secret::hmac_sha256_hex;
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};

/// What guests write, in turn.
const MESSAGES: &[&str] = &[
    "hola",
    "hay lugar del 20 al 23 de octubre para 2?",
    "cuánto sale el finde que viene para 4 personas?",
    "a qué hora es el check-in?",
    "mis reservas",
];

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

async fn graph_messages(State(arrivals): State<Arrivals>, Json(body): Json<Value>) -> Json<Value> {
    let now = Instant::now();
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    let mut a = arrivals.lock().unwrap();
    let list = a.entry(to).or_default();
    list.push(now);
    let id = format!("wamid.bench{}", list.len());
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}))
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name}: n={} p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap()),
    );
}

#[tokio::main]
async fn main() {
    let base = env("BENCH_BASE", "http://127.0.0.1:18083");
    let secret = env("BENCH_SECRET", "bench-app-secret");
    let graph_port: u16 = env("BENCH_GRAPH_PORT", "18084").parse().unwrap();
    let rate: f64 = env("BENCH_RATE", "200").parse().unwrap();
    let seconds: f64 = env("BENCH_SECONDS", "30").parse().unwrap();
    let phones: usize = env("BENCH_PHONES", "200").parse().unwrap();

    let arrivals: Arrivals = Arc::default();
    let graph = axum::Router::new()
        .route("/{version}/{phone}/messages", post(graph_messages))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", graph_port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, graph).await.unwrap() });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let total = (rate * seconds) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticker.tick().await;
        let phone = format!("54911{:08}", i % phones);
        let payload = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
                "contacts": [{"profile": {"name": "Huésped"}, "wa_id": phone}],
                "messages": [{"from": phone, "id": format!("wamid.in{i}"), "timestamp": "1", "type": "text",
                    "text": {"body": MESSAGES[(i / phones) % MESSAGES.len()]}}]}}]}]})
        .to_string();
        let signature = format!(
            "sha256={}",
            hmac_sha256_hex(secret.as_bytes(), payload.as_bytes())
        );
        let (client, url) = (client.clone(), format!("{base}/api/v1/webhooks/whatsapp"));
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = client
                .post(url)
                .header("x-hub-signature-256", signature)
                .header("content-type", "application/json")
                .body(payload)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (phone, sent, sent.elapsed(), ok)
        }));
    }
    let mut acks = Vec::with_capacity(total);
    let mut sends = Vec::with_capacity(total);
    let mut failed = 0;
    for t in tasks {
        let (phone, sent, ack, ok) = t.await.unwrap();
        failed += usize::from(!ok);
        acks.push(ack);
        sends.push((phone, sent));
    }
    let offered = total as f64 / started.elapsed().as_secs_f64();
    // Each guest writes again only after its previous reply had time to arrive, so the first
    // Graph API call to a guest after a message is that message's reply.
    let deadline = Instant::now() + Duration::from_secs(60);
    let replies = loop {
        let replies: Vec<Option<Duration>> = {
            let a = arrivals.lock().unwrap();
            sends
                .iter()
                .map(|(phone, sent)| {
                    a.get(phone)?
                        .iter()
                        .find(|t| *t >= sent)
                        .map(|t| t.duration_since(*sent))
                })
                .collect()
        };
        if replies.iter().all(Option::is_some) || Instant::now() > deadline {
            break replies;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing = replies.iter().filter(|r| r.is_none()).count();
    println!(
        "{total} messages offered at {offered:.0}/s from {phones} guests; {failed} not acknowledged with 2xx; {missing} without a reply"
    );
    summary("webhook acknowledged", acks);
    summary(
        "reply handed to the Graph API",
        replies.into_iter().flatten().collect(),
    );
}
