//! One server with every feature on, over a store with an unreadable record in each table
//! that matters: everything else keeps working.

use std::time::Duration;

use alojamientos::config::RawSettings;
use alojamientos::store::tables::{
    ACCOMMODATIONS, CONVERSATIONS, EMAIL_OUTBOX, FEEDS, IDEMPOTENCY, OUTBOX, PAYMENTS,
    RESERVATIONS, WA_INBOX, WA_OUTBOX, WEBHOOK_INBOX,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{BOGUS, append_bogus, tamper};
use crate::email::{HOST_EMAIL, HOST_PHONE, with_email, with_whatsapp};
use crate::helpers::fake_graph::{self, FakeGraph, post_event, shown};
use crate::helpers::fake_mp::{self, FakeMp, payment};
use crate::helpers::fake_smtp::FakeSmtp;
use crate::helpers::{TestApp, body, day, eventually, reserve_body};

const WAIT: Duration = Duration::from_secs(20);
const GUEST_PHONE: &str = "5491122334455";

/// Everything on: Mercado Pago, email and WhatsApp at fakes (host notices as a template, so
/// they go out with the host's window closed), every job every second.
fn configure(raw: &mut RawSettings, mp: &FakeMp, smtp: &FakeSmtp, graph: &FakeGraph) {
    fake_mp::configure(raw, mp.url());
    raw.mercadopago.reconcile = "* * * * * *".into();
    raw.jobs.purge_idempotency = "* * * * * *".into();
    with_email(raw, smtp);
    with_whatsapp(raw, graph);
    raw.whatsapp.template_name = "aviso_reserva".into();
}

async fn create(app: &TestApp, path: &str, body_: Value) -> Value {
    let r = app.admin_post(path, body_).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{path}");
    body(r).await
}

async fn say(app: &TestApp, id: &str, text: &str) {
    let event = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "54911", "phone_number_id": fake_graph::PHONE_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": GUEST_PHONE}],
        "messages": [{"from": GUEST_PHONE, "id": id, "timestamp": jiff::Timestamp::now().as_second().to_string(),
            "type": "text", "text": {"body": text}}]}}]}]});
    let r = post_event(&app.client, &app.url(""), &event).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// A guest's hold on `acc` from `from` to `to` days ahead; its code.
async fn hold(app: &TestApp, acc: u64, from: i64, to: i64) -> String {
    let r = app.reserve(acc, &day(from), &day(to)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["code"].as_str().unwrap().to_owned()
}

/// The host's confirmed booking on `acc`; its code.
async fn booking(app: &TestApp, acc: u64, from: i64, to: i64) -> String {
    let mut manual = reserve_body(acc, &day(from), &day(to));
    manual["confirmed"] = json!(true);
    let made = create(app, "/api/v1/admin/reservations", manual).await;
    made["code"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, code: &str) -> (StatusCode, Value) {
    let r = app
        .admin_get(&format!("/api/v1/admin/reservations/{code}"))
        .await;
    (r.status(), body(r).await)
}

#[tokio::test]
async fn unreadable_records_are_skipped_counted_listed_and_everything_else_goes_on() {
    let (mp, smtp, graph) = (
        FakeMp::start().await,
        FakeSmtp::start().await,
        FakeGraph::start().await,
    );
    let app = TestApp::spawn_with(|raw| {
        configure(raw, &mp, &smtp, &graph);
        raw.reservations.hold_duration = "2s".into();
    })
    .await;
    let a = app.accommodation(json!({"name": "Cabaña A"})).await;
    let b = app.accommodation(json!({"name": "Cabaña B"})).await;
    let bad_hold = hold(&app, a, 30, 33).await;
    let lapsing = hold(&app, a, 40, 41).await;
    let bad_booking = booking(&app, a, 50, 52).await;
    let good_booking = booking(&app, a, 60, 62).await;
    let feed = create(
        &app,
        &format!("/api/v1/admin/accommodations/{a}/feeds"),
        json!({"url": "http://127.0.0.1:9/x.ics", "source": "airbnb", "enabled": false}),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    mp.set_payment(payment("7001", "approved", "10.00", None));
    fake_mp::notify_payment(&app, "7001").await;
    let recorded = || async {
        let list = body(app.admin_get("/api/v1/admin/payments").await).await;
        list.as_array().is_some_and(|l| !l.is_empty())
    };
    assert!(eventually(WAIT, recorded).await);
    say(&app, "wamid.r1", "hola").await;
    let answered = || async { !graph.sent_to(GUEST_PHONE).is_empty() };
    assert!(eventually(WAIT, answered).await);

    let app = app
        .restart(
            |dir| {
                tamper(dir, |txn| {
                    let mut reservations = txn.open_table(RESERVATIONS).unwrap();
                    reservations.insert(bad_hold.as_str(), BOGUS).unwrap();
                    reservations.insert(bad_booking.as_str(), BOGUS).unwrap();
                    drop(reservations);
                    let bad = br#"{"id": "dos"}"#.as_slice();
                    txn.open_table(ACCOMMODATIONS)
                        .unwrap()
                        .insert(b, bad)
                        .unwrap();
                    txn.open_table(PAYMENTS)
                        .unwrap()
                        .insert("7001", BOGUS)
                        .unwrap();
                    txn.open_table(FEEDS).unwrap().insert(feed, BOGUS).unwrap();
                    txn.open_table(CONVERSATIONS)
                        .unwrap()
                        .insert(GUEST_PHONE, BOGUS)
                        .unwrap();
                    txn.open_table(WEBHOOK_INBOX)
                        .unwrap()
                        .insert("7002", BOGUS)
                        .unwrap();
                    txn.open_table(IDEMPOTENCY)
                        .unwrap()
                        .insert("reserve:old", BOGUS)
                        .unwrap();
                    append_bogus(txn, OUTBOX, "next_outbox_id");
                    append_bogus(txn, WA_OUTBOX, "next_whatsapp_outbox_id");
                    append_bogus(txn, EMAIL_OUTBOX, "next_email_id");
                    append_bogus(txn, WA_INBOX, "next_whatsapp_inbox_id");
                });
                // Both holds lapsed while the server was down.
                std::thread::sleep(Duration::from_secs(2));
            },
            |raw| configure(raw, &mp, &smtp, &graph),
        )
        .await;

    // Health is degraded, naming the records; the host gets their list, without content.
    let listed = || async {
        let h = body(app.get("/api/v1/healthz").await).await;
        h["checks"]["records"]["unreadable"].as_u64() >= Some(12)
    };
    assert!(
        eventually(WAIT, listed).await,
        "the start-up audit notes them"
    );
    let h = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["checks"]["records"]["status"], "degraded");
    let r = app.admin_get("/api/v1/admin/store/decode-errors").await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<String> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["table"].as_str().unwrap(),
                r["key"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        format!("reservations/{bad_hold}"),
        format!("reservations/{bad_booking}"),
        format!("accommodations/{b}"),
        "payments/7001".into(),
        format!("ical_feeds/{feed}"),
        "webhook_inbox/7002".into(),
    ] {
        assert!(keys.contains(&expected), "{expected} in {keys:?}");
    }
    for table in [
        "outbox",
        "whatsapp_outbox",
        "email_outbox",
        "whatsapp_inbox",
    ] {
        assert!(
            keys.iter().any(|k| k.starts_with(&format!("{table}/"))),
            "{table}: {keys:?}"
        );
    }
    assert!(
        keys.iter().any(|k| k.starts_with("conversations/sha256:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("idempotency/sha256:")),
        "{keys:?}"
    );
    assert!(
        !text.contains(GUEST_PHONE) && !text.contains("reserve:old"),
        "{text}"
    );
    assert_eq!(list["count"], keys.len());
    assert!(
        app.metric("store_decode_errors_total", &[("table", "reservations")])
            .await
            >= 2.0
    );

    // Reading one answers a stable code (the guest learns nothing), the lists skip them.
    let (status, err) = status_of(&app, &bad_booking).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(err["error"], "record_unreadable", "{err}");
    let guest = app
        .client
        .get(app.url(&format!("/api/v1/reservations/{bad_booking}")))
        .bearer_auth("a-guess")
        .send()
        .await
        .unwrap();
    assert_eq!(guest.status(), StatusCode::NOT_FOUND);
    let page = body(app.admin_get("/api/v1/admin/reservations").await).await;
    let codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&good_booking.as_str()) && !codes.contains(&bad_booking.as_str()));
    let csv = app.admin_get("/api/v1/admin/reservations.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().contains(&good_booking));
    assert_eq!(
        app.admin_get("/api/v1/admin/stats").await.status(),
        StatusCode::OK
    );
    let on_sale = body(app.get("/api/v1/accommodations").await).await;
    assert_eq!(on_sale.as_array().unwrap().len(), 1, "{on_sale}");
    for path in [
        "/api/v1/admin/accommodations".to_owned(),
        format!("/api/v1/admin/accommodations/{a}/feeds"),
        "/api/v1/admin/payments".into(),
        "/api/v1/admin/outbox".into(),
        "/api/v1/admin/whatsapp/outbox".into(),
        "/api/v1/admin/whatsapp/conversations".into(),
    ] {
        assert_eq!(
            app.admin_get(&path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let quote = app
        .get(&format!(
            "/api/v1/accommodations/{a}/quote?check_in={}&check_out={}",
            day(50),
            day(51)
        ))
        .await;
    assert_eq!(
        body(quote).await["available"],
        false,
        "its dates stay taken"
    );

    // The hold-expiry job expires the good lapsed hold past the bad one; the purge runs.
    let expired = || async { status_of(&app, &lapsing).await.1["status"] == "expired" };
    assert!(eventually(WAIT, expired).await);
    let purged = || async {
        app.metric(
            "job_runs_total",
            &[("job", "purge_idempotency"), ("outcome", "ok")],
        )
        .await
            >= 1.0
    };
    assert!(eventually(WAIT, purged).await);
    assert_eq!(
        app.metric(
            "job_runs_total",
            &[("job", "expire_holds"), ("outcome", "error")]
        )
        .await,
        0.0
    );

    // The export still shows the unreadable booking's dates.
    let export = body(
        app.admin_get(&format!("/api/v1/admin/accommodations/{a}/ical"))
            .await,
    )
    .await;
    let ics = app.get(export["export_path"].as_str().unwrap()).await;
    assert_eq!(ics.status(), StatusCode::OK);
    let ics = ics.text().await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
    assert!(ics.contains(&day(50).replace('-', "")), "{ics}");

    // A new hold: its payment link, reconciliation confirms it, email and WhatsApp tell the
    // host past the unreadable event and messages; the guest whose chat state is unreadable
    // is answered from a fresh one.
    let r = app.reserve(a, &day(70), &day(72)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let fresh = body(r).await;
    let code = fresh["code"].as_str().unwrap().to_owned();
    assert!(fresh["payment_url"].is_string(), "{fresh}");
    let deposit = fresh["deposit_amount"].as_str().unwrap();
    mp.set_payment(payment("7003", "approved", deposit, Some(&code)));
    let confirmed = || async { status_of(&app, &code).await.1["status"] == "confirmed" };
    assert!(
        eventually(WAIT, confirmed).await,
        "reconciliation applied it"
    );
    let mailed = || async {
        smtp.received_by(HOST_EMAIL)
            .iter()
            .any(|m| m.subject.contains(&code))
    };
    assert!(eventually(WAIT, mailed).await, "{:#?}", smtp.received());
    let told = || async {
        graph
            .sent_to(HOST_PHONE)
            .iter()
            .any(|m| shown(m).contains(&code))
    };
    assert!(eventually(WAIT, told).await, "{:#?}", graph.sent());
    let before = graph.sent_to(GUEST_PHONE).len();
    say(&app, "wamid.r2", "hola").await;
    let answered = || async { graph.sent_to(GUEST_PHONE).len() > before };
    assert!(eventually(WAIT, answered).await);
}
