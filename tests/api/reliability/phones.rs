//! Phones over real HTTP: a guest's number typed the local Argentine way is stored as the
//! `+549…` WhatsApp uses, so the same guest writing on WhatsApp finds the booking; a number that
//! is not a phone gets 422 `validation` naming the field.

use std::time::Duration;

use crate::helpers::fake_graph::{PHONE_ID, post_event, shown};
use crate::helpers::{TestApp, body, day, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn booking(unit: u64, from: i64, phone: &str) -> Value {
    json!({"accommodation_id": unit, "check_in": day(from), "check_out": day(from + 2),
        "guests": 2, "contact_name": "Ana Pérez", "contact_phone": phone})
}

#[tokio::test]
async fn local_forms_are_stored_as_e164_and_non_phones_are_refused_by_field() {
    let app = TestApp::spawn().await;
    let unit = app.accommodation(json!({})).await;
    for (i, (typed, stored)) in [
        ("0351 15-412-3456", "+5493514123456"),
        ("351 15 4123456", "+5493514123456"),
        ("11 15 2233-4455", "+5491122334455"),
        ("+54 11 15 2233-4455", "+5491122334455"),
        ("54 9 11 2233 4455", "+5491122334455"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .post(
                "/api/v1/reservations",
                booking(unit, 10 + 3 * i as i64, typed),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{typed}");
        let code = body(r).await["code"].as_str().unwrap().to_owned();
        let r = app
            .admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await;
        assert_eq!(body(r).await["contact_phone"], stored, "{typed}");
    }
    for bad in [
        "15 2233-4455",
        "12345",
        "+54 11 1234",
        "llamame",
        "+1 555 0100",
    ] {
        let r = app
            .post("/api/v1/reservations", booking(unit, 40, bad))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let b = body(r).await;
        assert_eq!(b["error"], "validation", "{bad}");
        assert!(
            b["detail"].as_str().unwrap().contains("contact_phone"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_guest_who_booked_on_the_web_finds_the_booking_from_whatsapp() {
    let (graph, app) = crate::whatsapp::setup(|_| {}).await;
    let unit = app.accommodation(json!({})).await;
    let r = app
        .post(
            "/api/v1/reservations",
            booking(unit, 12, "0351 15-412-3456"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = body(r).await["code"].as_str().unwrap().to_owned();

    let sender = "5493514123456";
    let event = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5491155550000", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": "wamid.phones-1",
                "timestamp": jiff::Timestamp::now().as_second().to_string(),
                "type": "text", "text": {"body": "mis reservas"}}]}}]}]});
    let r = post_event(&app.client, &app.url(""), &event).await;
    assert_eq!(r.status(), StatusCode::OK);
    let replied = || async { !graph.sent_to(sender).is_empty() };
    assert!(eventually(Duration::from_secs(15), replied).await);
    let reply = shown(&graph.sent_to(sender)[0]);
    assert!(reply.contains(&code), "{reply}");
}
