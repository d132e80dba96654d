//! The WhatsApp guest channel over real HTTP: the app on 127.0.0.1:0 with a real store, a fake
//! Graph API (and a fake Mercado Pago) on 127.0.0.1 scripted by each test, events signed with
//! `X-Hub-Signature-256` as Meta does.

mod common;

use std::time::Duration;

use alojamientos::config::RawSettings;
use alojamientos::secret::hmac_sha256_hex;

use common::binary::{command_with, start_with};
use common::fake_graph::{self, FakeGraph, PHONE_ID, post_event, shown};
use common::fake_mp::{self, FakeMp};
use common::{TestApp, body, day, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

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

async fn setup(extra: impl FnOnce(&mut RawSettings)) -> (FakeGraph, TestApp) {
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

#[tokio::test]
async fn the_verification_handshake_answers_the_raw_challenge() {
    let (_graph, app) = setup(|_| {}).await;
    let ok = app
        .get(&format!(
            "{HOOK}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"
        ))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "hub.challenge=1",
    ] {
        let r = app.get(&format!("{HOOK}?{query}")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{query}");
    }
}

#[tokio::test]
async fn events_need_a_valid_signature() {
    let (graph, app) = setup(|_| {}).await;
    let p = payload(vec![text("wamid.sig1", "5491122334455", "hola")], vec![]);
    let missing = app
        .client
        .post(app.url(HOOK))
        .json(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(missing).await["error"], "invalid_signature");
    let wrong = app
        .client
        .post(app.url(HOOK))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .json(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.metric("webhook_signature_invalid_total", &[("source", "whatsapp")])
            .await,
        2.0
    );
    let ok = post_signed(&app, &p).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body(ok).await["status"], "accepted");
    let greeting = wait_replies(&graph, "5491122334455", 1).await;
    assert!(shown(&greeting).contains("Hola Ana"), "{greeting}");
    let garbage = app
        .client
        .post(app.url(HOOK))
        .header(
            "x-hub-signature-256",
            format!(
                "sha256={}",
                hmac_sha256_hex(SECRET.as_bytes(), b"{not json")
            ),
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_redelivered_message_gets_one_reply_and_every_message_of_a_payload_is_read() {
    let (graph, app) = setup(|_| {}).await;
    let p = payload(vec![text("wamid.dup", "5491122334455", "hola")], vec![]);
    assert_eq!(body(post_signed(&app, &p).await).await["new_messages"], 1);
    assert_eq!(body(post_signed(&app, &p).await).await["new_messages"], 0);
    // Two entries, the second with two changes: three guests, three replies.
    let multi = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "A", "changes": [{"field": "messages", "value": {"messages": [text("wamid.m1", "5491100000001", "hola")]}}]},
        {"id": "B", "changes": [
            {"field": "messages", "value": {"messages": [text("wamid.m2", "5491100000002", "hola"), text("wamid.m3", "5491100000003", "hola")]}},
            {"field": "messages", "value": {"messages": [text("wamid.m4", "5491100000004", "hola")]}}]}]});
    assert_eq!(
        body(post_signed(&app, &multi).await).await["new_messages"],
        4
    );
    for phone in [
        "5491100000001",
        "5491100000002",
        "5491100000003",
        "5491100000004",
    ] {
        wait_replies(&graph, phone, 1).await;
    }
    assert_eq!(
        graph.sent_to("5491122334455").len(),
        1,
        "the retry got no second reply"
    );
    // Metrics are shared by the tests of this process: at least this test's six.
    assert!(
        app.metric("whatsapp_messages_received_total", &[("type", "text")])
            .await
            >= 6.0
    );
}

#[tokio::test]
async fn slots_fill_across_messages_and_a_confirmed_quote_takes_a_hold() {
    let (graph, app) = setup(|_| {}).await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334455";
    let ask = say(
        &app,
        &graph,
        "wamid.s1",
        guest,
        &format!("hay lugar desde el {}?", dmy(30)),
        1,
    )
    .await;
    assert!(shown(&ask).contains("Hasta qué día"), "{ask}");
    let ask = say(&app, &graph, "wamid.s2", guest, "3 noches", 2).await;
    assert!(shown(&ask).contains("Cuántas personas"), "{ask}");
    let quote = say(&app, &graph, "wamid.s3", guest, "somos dos", 3).await;
    let text = shown(&quote);
    assert!(
        text.contains("Cabaña del Lago")
            && text.contains("Total: $ ")
            && text.contains("30 minutos"),
        "{text}"
    );
    assert_eq!(text.matches("• ").count(), 3, "one line per night: {text}");
    assert_eq!(
        quote["interactive"]["action"]["buttons"][0]["reply"]["id"],
        "hold:yes"
    );
    post_signed(
        &app,
        &payload(vec![button("wamid.s4", guest, "hold:yes")], vec![]),
    )
    .await;
    let held = wait_replies(&graph, guest, 4).await;
    let text = shown(&held);
    assert!(text.contains("Código: RES"), "{text}");
    let code = text.split("Código: ").nth(1).unwrap()[..15].to_owned();
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "pre_reserved");
    assert_eq!(r["channel"], "whatsapp");
    assert_eq!(r["accommodation_id"], acc);
    assert_eq!(r["check_in"], day(30));
    assert_eq!(r["check_out"], day(33));
    // The host hears about it (outside their window and without a template: nothing sent),
    // and "mis reservas" lists the hold.
    let mine = say(&app, &graph, "wamid.s5", guest, "mis reservas", 5).await;
    assert!(shown(&mine).contains(&code), "{mine}");
}

#[tokio::test]
async fn several_accommodations_are_offered_and_only_free_ones() {
    let (graph, app) = setup(|_| {}).await;
    let a = app
        .accommodation(json!({"name": "Cabaña del Bosque"}))
        .await;
    let b = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let c = app
        .accommodation(json!({"name": "Departamento Centro", "capacity": 2}))
        .await;
    assert_eq!(
        app.reserve(a, &day(40), &day(42)).await.status(),
        StatusCode::CREATED
    );
    let guest = "5491122334466";
    let offer = say(
        &app,
        &graph,
        "wamid.o1",
        guest,
        &format!("del {} al {} para 2", dmy(40), dmy(42)),
        1,
    )
    .await;
    let ids: Vec<String> = offer["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [format!("acc:{b}"), format!("acc:{c}")], "{offer}");
    post_signed(
        &app,
        &payload(vec![button("wamid.o2", guest, &format!("acc:{c}"))], vec![]),
    )
    .await;
    let quote = wait_replies(&graph, guest, 2).await;
    assert!(shown(&quote).contains("Departamento Centro"), "{quote}");
}

#[tokio::test]
async fn without_availability_the_guest_gets_alternatives() {
    let (graph, app) = setup(|_| {}).await;
    let a = app
        .accommodation(json!({"name": "Cabaña del Bosque"}))
        .await;
    assert_eq!(
        app.reserve(a, &day(50), &day(52)).await.status(),
        StatusCode::CREATED
    );
    let guest = "5491122334477";
    post_signed(
        &app,
        &payload(
            vec![text(
                "wamid.n1",
                guest,
                &format!("del {} al {} somos 2", dmy(50), dmy(52)),
            )],
            vec![],
        ),
    )
    .await;
    let alternatives = wait_replies(&graph, guest, 2).await;
    assert!(shown(&graph.sent_to(guest)[0]).contains("No tengo lugar"));
    let text = shown(&alternatives);
    assert!(
        text.contains("Lo más cercano") && text.contains("Cabaña del Bosque"),
        "{text}"
    );
}

#[tokio::test]
async fn a_hold_is_cancelled_after_confirmation() {
    let (graph, app) = setup(|_| {}).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334488";
    say(
        &app,
        &graph,
        "wamid.c1",
        guest,
        &format!("quiero reservar del {} al {} para 2", dmy(20), dmy(22)),
        1,
    )
    .await;
    let held = say(&app, &graph, "wamid.c2", guest, "dale", 2).await;
    let code = shown(&held).split("Código: ").nth(1).unwrap()[..15].to_owned();
    let ask = say(&app, &graph, "wamid.c3", guest, "quiero cancelar", 3).await;
    assert!(shown(&ask).contains(&code), "{ask}");
    let done = say(&app, &graph, "wamid.c4", guest, "sí", 4).await;
    assert!(shown(&done).contains("cancelé"), "{done}");
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "cancelled");
}

#[tokio::test]
async fn after_a_handover_the_bot_is_silent_and_the_host_is_told() {
    let (graph, app) = setup(|raw| raw.whatsapp.template_name = "aviso_general".into()).await;
    let guest = "5491122334499";
    let reply = say(
        &app,
        &graph,
        "wamid.h1",
        guest,
        "quiero hablar con una persona",
        1,
    )
    .await;
    assert!(shown(&reply).contains("Le aviso"), "{reply}");
    // The host never wrote: the 24-hour window is closed, so the notice is the template.
    let notice = wait_replies(&graph, HOST, 1).await;
    assert_eq!(notice["type"], "template");
    assert_eq!(notice["template"]["name"], "aviso_general");
    assert!(shown(&notice).contains(guest));
    post_signed(
        &app,
        &payload(vec![text("wamid.h2", guest, "hola?")], vec![]),
    )
    .await;
    // Another guest's reply proves the worker went past the silenced message.
    say(&app, &graph, "wamid.h3", "5491100000009", "hola", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 1, "silent after the handover");
    // The host hands the chat back: the bot answers again.
    let path = format!("/api/v1/admin/whatsapp/conversations/{guest}/resume");
    assert_eq!(
        app.admin_post(&path, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let missing = app
        .admin_post(
            "/api/v1/admin/whatsapp/conversations/5490000/resume",
            json!({}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let back = say(&app, &graph, "wamid.h4", guest, "hola", 2).await;
    assert!(shown(&back).contains("Hola"), "{back}");
}

#[tokio::test]
async fn the_host_reads_a_chat_and_takes_it_over_from_the_bot() {
    let (graph, app) = setup(|_| {}).await;
    let guest = "5491122334455";
    let reply = say(&app, &graph, "wamid.c1", guest, "hola", 1).await;
    let chats = body(app.admin_get("/api/v1/admin/whatsapp/conversations").await).await;
    assert_eq!(chats[0]["phone"], guest);
    assert_eq!(chats[0]["profile_name"], "Ana");
    assert_eq!(chats[0]["handover"], false);
    let path = format!("/api/v1/admin/whatsapp/conversations/{guest}");
    let chat = body(app.admin_get(&path).await).await;
    let messages = chat["messages"].as_array().unwrap();
    assert_eq!(messages[0]["direction"], "in");
    assert_eq!(messages[0]["text"], "hola");
    assert_eq!(messages[1]["direction"], "out");
    assert_eq!(messages[1]["text"].as_str().unwrap(), shown(&reply));

    // The host takes over: the bot stays silent in that chat, and the command is not shown.
    let take = app.admin_post(&format!("{path}/handover"), json!({})).await;
    assert_eq!(take.status(), StatusCode::NO_CONTENT);
    let taken = eventually(WAIT, || async {
        body(app.admin_get(&path).await).await["handover"] == true
    })
    .await;
    assert!(taken, "the chat is handed over to the host");
    say(&app, &graph, "wamid.c2", guest, "hay lugar?", 1).await;
    say(&app, &graph, "wamid.c3", "5491100000009", "hola", 1).await;
    assert_eq!(
        graph.sent_to(guest).len(),
        1,
        "silent while the host answers"
    );
    let chat = body(app.admin_get(&path).await).await;
    let texts: Vec<&str> = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[2], "hay lugar?");
    let missing = app
        .admin_get("/api/v1/admin/whatsapp/conversations/5490000")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn graph_outages_are_retried_and_statuses_update_the_outbox() {
    let (graph, app) = setup(|_| {}).await;
    graph.fail(&[500, 429, 503]);
    let guest = "5491122334400";
    say(&app, &graph, "wamid.r1", guest, "hola", 1).await;
    assert_eq!(graph.attempts(), 4);
    assert!(
        app.metric("outbox_delivery_failures_total", &[("channel", "whatsapp")])
            .await
            >= 3.0
    );
    assert!(
        app.metric(
            "whatsapp_messages_sent_total",
            &[("kind", "text"), ("result", "retry")]
        )
        .await
            >= 3.0
    );
    let status =
        json!({"id": "wamid.TEST1", "status": "read", "timestamp": "1", "recipient_id": guest});
    post_signed(&app, &payload(vec![], vec![status])).await;
    let health = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(
        health["checks"]["whatsapp"]["status"], "configured",
        "{health}"
    );
    assert_eq!(health["checks"]["outbox"]["pending"], 0, "{health}");
    let outbox = body(app.admin_get("/api/v1/admin/whatsapp/outbox").await).await;
    let m = &outbox["messages"][0];
    assert_eq!(m["status"], "read", "{outbox}");
    assert_eq!(m["attempts"], 4);
}

#[tokio::test]
async fn a_message_queued_during_an_outage_is_sent_once_after_a_crash() {
    let graph = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = |graph: &FakeGraph| {
        let settings = [
            ("API_BASE_URL", graph.url()),
            ("API_VERSION", fake_graph::VERSION.into()),
            ("PHONE_NUMBER_ID", PHONE_ID.into()),
            ("ACCESS_TOKEN", fake_graph::TOKEN.into()),
            ("APP_SECRET", SECRET.into()),
            ("OUTBOX_SWEEP", "50ms".into()),
            ("RETRY_BASE", "10ms".into()),
            ("RETRY_CAP", "50ms".into()),
        ];
        start_with(command_with(dir.path(), "WHATSAPP", &settings))
    };
    let client = reqwest::Client::new();
    graph.fail(&[500; 10_000]);
    let mut first = server(&graph).await;
    let guest = "5491122334411";
    let r = post_event(
        &client,
        &first.base,
        &payload(vec![text("wamid.x1", guest, "hola")], vec![]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(eventually(WAIT, || async { graph.attempts() >= 2 }).await);
    let health = first.health(&client).await;
    assert_eq!(
        health["checks"]["whatsapp"]["status"], "failing",
        "{health}"
    );
    assert_eq!(health["checks"]["outbox"]["pending"], 1, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    first.crash().await;
    graph.clear_faults();
    let second = server(&graph).await;
    wait_replies(&graph, guest, 1).await;
    // Meta retries the same delivery after the crash: still one reply.
    post_event(
        &client,
        &second.base,
        &payload(vec![text("wamid.x1", guest, "hola")], vec![]),
    )
    .await;
    post_event(
        &client,
        &second.base,
        &payload(vec![text("wamid.x2", "5491100000008", "hola")], vec![]),
    )
    .await;
    wait_replies(&graph, "5491100000008", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 1);
}

#[tokio::test]
async fn the_host_can_see_what_the_bot_understands() {
    let (_graph, app) = setup(|_| {}).await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let req = json!({"text": "hay lugar en la del lago del 20 al 23 de octubre? somos dos adultos y un nene", "reference_date": "2026-11-25"});
    let denied = app.post("/api/v1/nlu/analyze", req.clone()).await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let r = app.admin_post("/api/v1/nlu/analyze", req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        body(r).await,
        json!({"intent": "disponibilidad", "check_in": "2027-10-20", "check_out": "2027-10-23", "guests": 3, "accommodation_id": acc})
    );
    let r = app
        .admin_post("/api/v1/nlu/analyze", json!({"text": "hola"}))
        .await;
    assert_eq!(
        body(r).await,
        json!({"intent": "saludo", "check_in": null, "check_out": null, "guests": null, "accommodation_id": null})
    );
    let bad = app
        .admin_post(
            "/api/v1/nlu/analyze",
            json!({"text": "x", "reference_date": "ayer"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outbox = body(app.admin_get("/api/v1/admin/whatsapp/outbox").await).await;
    assert_eq!(outbox["messages"], json!([]), "no side effects");
}

#[tokio::test]
async fn from_hola_to_a_paid_booking_confirmed_over_whatsapp() {
    let mp = FakeMp::start().await;
    let mp_url = mp.url();
    let (graph, app) = setup(move |raw| fake_mp::configure(raw, mp_url)).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334455";
    let hello = say(&app, &graph, "wamid.p1", guest, "hola", 1).await;
    assert!(shown(&hello).contains("¿Para qué fechas"), "{hello}");
    let ask = format!("del {} al {} somos 2 adultos", dmy(25), dmy(27));
    say(&app, &graph, "wamid.p2", guest, &ask, 2).await;
    let held = say(&app, &graph, "wamid.p3", guest, "sí", 3).await;
    let text = shown(&held);
    assert!(
        text.contains("mercadopago") || text.contains("http"),
        "a payment link: {text}"
    );
    let code = text.split("Código: ").nth(1).unwrap()[..15].to_owned();
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    let deposit = r["deposit_amount"].as_str().unwrap().to_owned();
    assert!(text.contains(r["payment_url"].as_str().unwrap()), "{text}");

    mp.set_payment(fake_mp::payment("9001", "approved", &deposit, Some(&code)));
    fake_mp::notify_payment(&app, "9001").await;
    let confirmed = wait_replies(&graph, guest, 4).await;
    let text = shown(&confirmed);
    assert!(
        text.contains("Recibimos tu pago") && text.contains(&code),
        "{text}"
    );
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "confirmed");
}

#[tokio::test]
async fn a_voice_note_is_transcribed_and_answered_like_text() {
    let scripts = tempfile::tempdir().unwrap();
    let stt = scripts.path().join("stt.sh");
    let transcript = format!("hay lugar del {} al {} para dos", dmy(60), dmy(62));
    // The fake STT checks it got the downloaded file, then prints the transcript.
    std::fs::write(
        &stt,
        format!("#!/bin/sh\ngrep -q OggS \"$1\" && echo '{transcript}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&stt, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let command = stt.display().to_string();
    let (graph, app) = setup(move |raw| raw.whatsapp.stt_command = command).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let voice = |id: &str, from: &str| {
        json!({"from": from, "id": id, "timestamp": "1700000000", "type": "audio",
            "audio": {"id": "MEDIA1", "mime_type": "audio/ogg; codecs=opus", "voice": true}})
    };
    post_signed(
        &app,
        &payload(vec![voice("wamid.v1", "5491122334455")], vec![]),
    )
    .await;
    let quote = wait_replies(&graph, "5491122334455", 1).await;
    assert!(
        shown(&quote).contains("Cabaña del Lago") && shown(&quote).contains("Total"),
        "{quote}"
    );
    assert!(app.metric("stt_duration_seconds_count", &[]).await >= 1.0);
}

#[tokio::test]
async fn without_speech_to_text_a_voice_note_gets_asked_to_write() {
    let (graph, app) = setup(|_| {}).await;
    let voice = json!({"from": "5491122334455", "id": "wamid.v2", "timestamp": "1700000000",
        "type": "audio", "audio": {"id": "MEDIA2", "voice": true}});
    post_signed(&app, &payload(vec![voice], vec![])).await;
    let reply = wait_replies(&graph, "5491122334455", 1).await;
    assert!(shown(&reply).contains("escribís"), "{reply}");
}

#[tokio::test]
async fn a_hold_is_reminded_before_it_lapses_and_announced_when_it_did() {
    let mp = FakeMp::start().await;
    let mp_url = mp.url();
    let (graph, app) = setup(move |raw| {
        raw.reservations.hold_duration = "5s".into();
        raw.whatsapp.reminder_before = "4s".into();
        raw.mercadopago.api_base_url = mp_url;
        raw.mercadopago.access_token = fake_mp::TOKEN.into();
        raw.mercadopago.reconcile = "0 0 0 1 1 *".into();
    })
    .await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334422";
    let ask = format!("quiero reservar del {} al {} para 2", dmy(70), dmy(72));
    say(&app, &graph, "wamid.e1", guest, &ask, 1).await;
    let held = say(&app, &graph, "wamid.e2", guest, "dale", 2).await;
    let code = shown(&held).split("Código: ").nth(1).unwrap()[..15].to_owned();
    let reminder = wait_replies(&graph, guest, 3).await;
    assert!(
        shown(&reminder).contains("Te recuerdo") && shown(&reminder).contains(&code),
        "{reminder}"
    );
    let expired = wait_replies(&graph, guest, 4).await;
    assert!(shown(&expired).contains("venció"), "{expired}");
    // Another guest's answer proves the sweeps went on: nothing more for this guest.
    say(&app, &graph, "wamid.e3", "5491100000007", "hola", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 4);
}
