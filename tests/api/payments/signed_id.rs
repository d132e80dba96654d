//! Only the payment id the signature covers is used: `data.id` in the query, or the legacy
//! `?topic=payment&id=` when it is signed as the manifest's id; an id in the body or in an
//! unsigned legacy query is never fetched nor applied.

use super::*;

/// A notification signed over `signed_id` (or over no id), sent to `path` with `body`.
async fn post(app: &TestApp, path: &str, signed_id: Option<&str>, body: Value) -> Response {
    let ts = now_s();
    let sig = match signed_id {
        Some(id) => signature(SECRET, id, "req-1", ts),
        None => format!(
            "ts={ts},v1={}",
            hmac_sha256_hex(
                SECRET.as_bytes(),
                format!("request-id:req-1;ts:{ts};").as_bytes()
            )
        ),
    };
    let req = app
        .client
        .post(app.url(path))
        .header("x-request-id", "req-1")
        .header("x-signature", sig);
    let req = if body.is_null() { req } else { req.json(&body) };
    req.send().await.unwrap()
}

#[tokio::test]
async fn only_the_signed_payment_id_is_used() {
    let (fake, app, acc) = setup(|_| {}).await;
    let victim = hold(&app, acc, 30, 33).await;
    let mine = hold(&app, acc, 40, 43).await;
    fake.set_payment(payment(
        "9301",
        "approved",
        &victim.deposit,
        Some(&victim.code),
    ));
    fake.set_payment(payment("9302", "approved", &mine.deposit, Some(&mine.code)));
    let before = fake.hits("payment");
    // A signature over no id cannot carry an id in the legacy query or in the body.
    let legacy = post(
        &app,
        "/api/v1/mercadopago/webhook?topic=payment&id=9301",
        None,
        Value::Null,
    )
    .await;
    assert_eq!(legacy.status(), StatusCode::OK);
    assert_eq!(body(legacy).await["status"], "ignored");
    let in_body = post(&app, WEBHOOK, None, notification_body("9301")).await;
    assert_eq!(body(in_body).await["status"], "ignored");
    // A signed data.id wins over another id in the body.
    let mixed = post(
        &app,
        &format!("{WEBHOOK}?data.id=9302&type=payment"),
        Some("9302"),
        notification_body("9301"),
    )
    .await;
    assert_eq!(body(mixed).await["status"], "accepted");
    wait_status(&app, &mine.code, "confirmed").await;
    assert_eq!(fake.hits("payment"), before + 1, "only 9302 was fetched");
    assert_eq!(
        reservation(&app, &victim.code).await["status"],
        "pre_reserved"
    );
    // The legacy form signed over its id is used.
    let signed_legacy = post(
        &app,
        "/api/v1/mercadopago/webhook?topic=payment&id=9301",
        Some("9301"),
        Value::Null,
    )
    .await;
    assert_eq!(body(signed_legacy).await["status"], "accepted");
    wait_status(&app, &victim.code, "confirmed").await;
    // A signature over one id does not pass for another.
    let forged = post(
        &app,
        "/api/v1/mercadopago/webhook?topic=payment&id=9999",
        Some("9301"),
        Value::Null,
    )
    .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}
