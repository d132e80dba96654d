//! A correctly signed notification is never refused for what it says: an id of an unknown
//! shape, no id, a body that is not JSON or a repeated query parameter are answered 200
//! (`ignored` unless a usable signed id is there), so Mercado Pago stops retrying. Unsigned
//! ones are still refused, whatever their shape.

use super::*;

/// `path` signed over `id` (or over no id) with `body` as raw bytes.
async fn post_raw(app: &TestApp, path: &str, id: Option<&str>, body: &str) -> Response {
    let ts = now_s();
    let manifest = match id {
        Some(id) => format!("id:{id};request-id:req-1;ts:{ts};"),
        None => format!("request-id:req-1;ts:{ts};"),
    };
    let sig = format!(
        "ts={ts},v1={}",
        hmac_sha256_hex(SECRET.as_bytes(), manifest.as_bytes())
    );
    app.client
        .post(app.url(path))
        .header("x-request-id", "req-1")
        .header("x-signature", sig)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn signed_notifications_of_any_shape_are_acknowledged_and_only_usable_ids_fetched() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9401", "approved", &held.deposit, Some(&held.code)));
    let long = "9".repeat(40);
    let cases = [
        (
            "alphanumeric id",
            "?data.id=ORD01ABC&type=payment",
            Some("ord01abc"),
        ),
        ("negative id", "?data.id=-7&type=payment", Some("-7")),
        (
            "an id too long",
            &format!("?data.id={long}&type=payment"),
            Some(long.as_str()),
        ),
        (
            "a non-ASCII id",
            "?data.id=%E2%82%AC1&type=payment",
            Some("€1"),
        ),
        ("no id at all", "?type=payment", None),
        ("an empty id", "?data.id=&type=payment", None),
    ];
    for (what, query, signed) in cases {
        let r = post_raw(&app, &format!("{WEBHOOK}{query}"), signed, "{}").await;
        assert_eq!(r.status(), StatusCode::OK, "{what}");
        assert_eq!(body(r).await["status"], "ignored", "{what}");
    }
    // A body that is not JSON, a repeated parameter: the signed id is used.
    let r = post_raw(
        &app,
        &format!("{WEBHOOK}?data.id=9401&type=payment&data.id=1"),
        Some("9401"),
        "<html>not json",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "accepted");
    wait_status(&app, &held.code, "confirmed").await;
    assert_eq!(fake.hits("payment"), 1, "only the usable id was fetched");
    // Unsigned, the same shapes are refused as before.
    let r = send(
        &app,
        &format!("{WEBHOOK}?data.id=ORD01ABC&type=payment"),
        Some("ts=1,v1=00".into()),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
