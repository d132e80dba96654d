//! Host notices and guest confirmations by email over real SMTP: the app on 127.0.0.1:0 with a
//! real store, a fake SMTP server (and fake Mercado Pago, Graph API and OTA feeds) on
//! 127.0.0.1 scripted by each test.

use std::time::Duration;

use crate::helpers::binary::{command_with, create_room, login, start_with};
use crate::helpers::fake_feeds::FakeFeeds;
use crate::helpers::fake_graph::{self, FakeGraph, PHONE_ID, post_event, shown};
use crate::helpers::fake_mp::{self, FakeMp};
use crate::helpers::fake_smtp::{FakeSmtp, Received};
use crate::helpers::{TestApp, body, day, eventually, reserve_body};
use alojamientos::config::RawSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOST_EMAIL: &str = "anfitrion@cabanas.test";
const GUEST_EMAIL: &str = "ana@example.com";
const HOST_PHONE: &str = "5491100000000";
const WAIT: Duration = Duration::from_secs(15);

fn with_email(raw: &mut RawSettings, smtp: &FakeSmtp) {
    let e = &mut raw.email;
    e.smtp_host = "127.0.0.1".into();
    e.smtp_port = smtp.port();
    e.tls = "none".into();
    e.from = "Cabañas Test <reservas@cabanas.test>".into();
    e.host_address = HOST_EMAIL.into();
    e.outbox_sweep = "50ms".into();
    e.retry_base = "10ms".into();
    e.retry_cap = "50ms".into();
    e.timeout = "2s".into();
}

fn with_whatsapp(raw: &mut RawSettings, graph: &FakeGraph) {
    graph.configure(raw);
    let wa = &mut raw.whatsapp;
    wa.app_secret = fake_graph::APP_SECRET.into();
    wa.host_phone = HOST_PHONE.into();
    wa.outbox_sweep = "50ms".into();
}

/// Waits until `to` has received `n` emails and returns the `n`th.
async fn wait_mail(smtp: &FakeSmtp, to: &str, n: usize) -> Received {
    let ok = eventually(WAIT, || async { smtp.received_by(to).len() >= n }).await;
    let got = smtp.received_by(to);
    assert!(ok, "waited for {n} emails to {to}, got {got:#?}");
    got[n - 1].clone()
}

async fn hold(app: &TestApp, acc: u64, from: i64, to: i64) -> Value {
    let r = app.reserve(acc, &day(from), &day(to)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await
}

#[tokio::test]
async fn a_new_booking_and_its_payment_reach_the_host_and_the_guest_by_email() {
    let smtp = FakeSmtp::start().await;
    let mp = FakeMp::start().await;
    let (s, mp_url) = (smtp.clone(), mp.url());
    let app = TestApp::spawn_with(move |raw| {
        with_email(raw, &s);
        fake_mp::configure(raw, mp_url);
    })
    .await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let held = hold(&app, acc, 20, 23).await;
    let code = held["code"].as_str().unwrap().to_owned();

    let notice = wait_mail(&smtp, HOST_EMAIL, 1).await;
    assert_eq!(notice.from, "reservas@cabanas.test");
    assert_eq!(notice.to, vec![HOST_EMAIL.to_owned()]);
    assert!(
        notice.subject.contains("Nueva reserva") && notice.subject.contains(&code),
        "{notice:?}"
    );
    assert!(
        notice.body.contains("Cabaña del Lago")
            && notice.body.contains("Ana Pérez")
            && notice.body.contains(GUEST_EMAIL),
        "{notice:?}"
    );
    assert!(notice.message_id.ends_with("@cabanas.test>"), "{notice:?}");
    assert!(
        smtp.received_by(GUEST_EMAIL).is_empty(),
        "a hold is no confirmation"
    );

    let deposit = held["deposit_amount"].as_str().unwrap();
    mp.set_payment(fake_mp::payment("9001", "approved", deposit, Some(&code)));
    fake_mp::notify_payment(&app, "9001").await;
    let paid = wait_mail(&smtp, HOST_EMAIL, 2).await;
    assert!(
        paid.subject.contains("Seña pagada") && paid.subject.contains(&code),
        "{paid:?}"
    );
    let confirmation = wait_mail(&smtp, GUEST_EMAIL, 1).await;
    assert!(
        confirmation.subject.contains("Reserva confirmada") && confirmation.body.contains(&code),
        "{confirmation:?}"
    );
    assert!(
        confirmation.body.contains("Hola Ana Pérez"),
        "{confirmation:?}"
    );

    // A later booking proves the sweeps went on: nothing was sent twice.
    hold(&app, acc, 40, 42).await;
    wait_mail(&smtp, HOST_EMAIL, 3).await;
    assert_eq!(smtp.received().len(), 4);
    assert_eq!(smtp.received_by(GUEST_EMAIL).len(), 1);
    assert_eq!(
        app.metric(
            "email_messages_sent_total",
            &[("kind", "guest"), ("result", "sent")]
        )
        .await,
        1.0
    );
}

#[tokio::test]
async fn smtp_failures_are_retried_and_a_refused_message_is_not() {
    let smtp = FakeSmtp::start().await;
    let s = smtp.clone();
    let app = TestApp::spawn_with(move |raw| with_email(raw, &s)).await;
    let acc = app.accommodation(json!({})).await;
    smtp.fail(&[451, 421, 451]);
    let first = hold(&app, acc, 20, 22).await;
    let notice = wait_mail(&smtp, HOST_EMAIL, 1).await;
    assert!(notice.subject.contains(first["code"].as_str().unwrap()));
    assert_eq!(smtp.attempts(), 4);
    assert!(
        app.metric("outbox_delivery_failures_total", &[("channel", "email")])
            .await
            >= 3.0
    );
    assert_eq!(
        app.metric(
            "email_messages_sent_total",
            &[("kind", "host"), ("result", "retry")]
        )
        .await,
        3.0
    );
    // The message is marked sent in a commit after the SMTP server took it.
    let drained = || async {
        let health = body(app.get("/api/v1/healthz").await).await;
        health["checks"]["outbox"]["email_pending"] == 0
    };
    assert!(eventually(WAIT, drained).await, "the email outbox drains");

    // A permanent refusal (5xx) is final: counted, never tried again.
    smtp.fail(&[554]);
    hold(&app, acc, 30, 32).await;
    assert!(
        eventually(WAIT, || async {
            app.metric(
                "email_messages_sent_total",
                &[("kind", "host"), ("result", "failed")],
            )
            .await
                == 1.0
        })
        .await
    );
    let third = hold(&app, acc, 40, 42).await;
    let notice = wait_mail(&smtp, HOST_EMAIL, 2).await;
    assert!(notice.subject.contains(third["code"].as_str().unwrap()));
    assert_eq!(smtp.attempts(), 6, "the refused message was tried once");
}

#[tokio::test]
async fn a_pending_email_is_sent_once_after_a_crash() {
    let smtp = FakeSmtp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = |smtp: &FakeSmtp| {
        let settings = [
            ("SMTP_HOST", "127.0.0.1".to_owned()),
            ("SMTP_PORT", smtp.port().to_string()),
            ("TLS", "none".into()),
            ("FROM", "reservas@cabanas.test".into()),
            ("HOST_ADDRESS", HOST_EMAIL.into()),
            ("OUTBOX_SWEEP", "50ms".into()),
            ("RETRY_BASE", "10ms".into()),
            ("RETRY_CAP", "50ms".into()),
        ];
        start_with(command_with(dir.path(), "EMAIL", &settings))
    };
    let client = reqwest::Client::new();
    smtp.fail(&[451; 10_000]);
    let mut first = server(&smtp).await;
    let token = login(
        &client,
        &first.base,
        "admin@alojamientos.local",
        first.password.as_deref().unwrap(),
    )
    .await;
    let room = create_room(&client, &first.base, &token, "Habitación 1").await;
    let reserve = |base: String, from: i64| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/reservations"))
                .json(&reserve_body(room, &day(from), &day(from + 2)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            body(r).await["code"].as_str().unwrap().to_owned()
        }
    };
    let code = reserve(first.base.clone(), 20).await;
    assert!(eventually(WAIT, || async { smtp.attempts() >= 2 }).await);
    let health = first.health(&client).await;
    assert_eq!(health["checks"]["outbox"]["email_pending"], 1, "{health}");
    first.crash().await;

    smtp.clear_faults();
    let second = server(&smtp).await;
    let notice = wait_mail(&smtp, HOST_EMAIL, 1).await;
    assert!(notice.subject.contains(&code), "{notice:?}");
    let later = reserve(second.base.clone(), 30).await;
    let next = wait_mail(&smtp, HOST_EMAIL, 2).await;
    assert!(next.subject.contains(&later), "{next:?}");
    assert_eq!(smtp.received().len(), 2, "the pending email went out once");
}

#[tokio::test]
async fn expiries_conflicts_and_handovers_reach_the_host_on_both_channels() {
    let smtp = FakeSmtp::start().await;
    let graph = FakeGraph::start().await;
    let feeds = FakeFeeds::start().await;
    let (s, g) = (smtp.clone(), graph.clone());
    let app = TestApp::spawn_with(move |raw| {
        with_email(raw, &s);
        with_whatsapp(raw, &g);
        raw.whatsapp.template_name = "aviso_general".into();
        raw.reservations.hold_duration = "3s".into();
        raw.ical.timeout = "1s".into();
    })
    .await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;

    // A hold that nobody pays lapses: the host hears about it.
    let lapsing = hold(&app, acc, 10, 12).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired = wait_mail(&smtp, HOST_EMAIL, 2).await;
    assert!(
        expired.subject.contains("Reserva vencida") && expired.subject.contains(&lapsing),
        "{expired:?}"
    );

    // An OTA stay lands on a confirmed booking.
    let booked = hold(&app, acc, 20, 23).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.act(&booked, "confirm", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ymd = |d: i64| day(d).replace('-', "");
    feeds.calendar(
        "/airbnb.ics",
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:x@airbnb.com\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            ymd(22),
            ymd(25)
        ),
        None,
    );
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds"),
            json!({"url": feeds.url("/airbnb.ics"), "source": "airbnb"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let feed = body(r).await["id"].as_u64().unwrap();
    let report = body(
        app.admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds/{feed}/sync"),
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(report["conflicts"], 1, "{report}");
    let conflict = wait_mail(&smtp, HOST_EMAIL, 4).await;
    assert!(
        conflict
            .subject
            .contains("Conflicto de calendario con airbnb")
            && conflict.subject.contains(&booked),
        "{conflict:?}"
    );

    // A WhatsApp guest asks for a person.
    let guest = "5491122334499";
    let event = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID},
            "messages": [{"from": guest, "id": "wamid.h1", "timestamp": "1", "type": "text",
                "text": {"body": "quiero hablar con una persona"}}]}}]}]});
    let r = post_event(&app.client, &app.url(""), &event).await;
    assert_eq!(r.status(), StatusCode::OK);
    let handover = wait_mail(&smtp, HOST_EMAIL, 5).await;
    assert!(
        handover.body.contains(&format!("https://wa.me/{guest}")),
        "{handover:?}"
    );

    // The same notices went to the host's WhatsApp, as the approved template (their window is
    // closed): two new bookings, the expiry, the conflict, the handover.
    assert!(eventually(WAIT, || async { graph.sent_to(HOST_PHONE).len() >= 5 }).await);
    let texts: Vec<String> = graph.sent_to(HOST_PHONE).iter().map(shown).collect();
    assert!(texts.iter().all(|t| !t.is_empty()), "{texts:#?}");
    for (needle, code) in [("venció", &lapsing), ("Conflicto de calendario", &booked)] {
        assert!(
            texts
                .iter()
                .any(|t| t.contains(needle) && t.contains(code.as_str())),
            "{needle}: {texts:#?}"
        );
    }
    assert!(texts.iter().any(|t| t.contains(&format!("wa.me/{guest}"))));
}

#[tokio::test]
async fn a_host_notice_whatsapp_cannot_send_still_goes_by_email_and_is_counted() {
    let smtp = FakeSmtp::start().await;
    let graph = FakeGraph::start().await;
    let (s, g) = (smtp.clone(), graph.clone());
    // No template: outside the host's 24-hour window WhatsApp cannot carry the notice.
    let app = TestApp::spawn_with(move |raw| {
        with_email(raw, &s);
        with_whatsapp(raw, &g);
    })
    .await;
    let acc = app.accommodation(json!({})).await;
    let code = hold(&app, acc, 20, 22).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let notice = wait_mail(&smtp, HOST_EMAIL, 1).await;
    assert!(notice.subject.contains(&code), "{notice:?}");
    assert!(
        eventually(WAIT, || async {
            app.metric(
                "host_notices_undeliverable_total",
                &[("channel", "whatsapp")],
            )
            .await
                == 1.0
        })
        .await
    );
    assert!(graph.sent_to(HOST_PHONE).is_empty());
}
