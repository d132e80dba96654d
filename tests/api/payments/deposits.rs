//! What a payment does: the hold's link, confirmation by the deposit, short, late, orphan and
//! refunded payments, and a hold that stands when the API fails.

use super::*;

#[tokio::test]
async fn hold_link_notification_and_confirmation_over_real_http() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    let url = held.created["payment_url"]
        .as_str()
        .expect("a payment link");
    assert!(url.contains("pref_id=pref-1"), "{url}");

    let prefs = fake.preferences();
    assert_eq!(prefs.len(), 1);
    let p = &prefs[0];
    assert_eq!(p["external_reference"], held.code.as_str());
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert_eq!(p["items"][0]["currency_id"], "ARS");
    assert_eq!(p["items"][0]["quantity"], 1);
    assert_eq!(
        p["items"][0]["unit_price"].as_f64().unwrap(),
        held.deposit.parse::<f64>().unwrap()
    );
    assert_eq!(
        p["notification_url"],
        "http://127.0.0.1:8080/api/v1/webhooks/mercadopago"
    );
    assert_eq!(p["back_urls"]["success"], "http://127.0.0.1:8080/pagado");
    assert_eq!(p["expires"], true);
    let expires: jiff::Timestamp = held.created["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let to: jiff::Timestamp = p["expiration_date_to"].as_str().unwrap().parse().unwrap();
    assert_eq!(to.as_second(), expires.as_second());

    // The guest's own view and the on-demand link give the same preference.
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["payment_url"], url);
    assert_eq!(fake.preferences().len(), 1, "a live link is reused");

    fake.set_payment(payment("9001", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9001").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    assert_eq!(r["payment_status"], "partially_paid");
    assert_eq!(r["paid_amount"], held.deposit.as_str());
    assert_eq!(r["payment_url"], Value::Null);

    let guest = app
        .client
        .get(app.url(&format!("/api/v1/reservations/{}", held.code)))
        .bearer_auth(&held.token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(guest).await["status"], "confirmed");
    let payments = payments_of(&app, &held.code).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["status"], "approved");
    assert_eq!(payments[0]["counted"], true);
    let kinds = outbox_kinds(&app, &held.code).await;
    assert!(
        kinds.contains(&"booking_confirmed:guest".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"booking_confirmed:host".to_owned()),
        "{kinds:?}"
    );
    assert!(
        app.metric("payments_total", &[("status", "approved")])
            .await
            >= 1.0
    );
    assert!(api_calls(&app, "payment", "ok").await >= 1.0);
}

#[tokio::test]
async fn a_replayed_hold_request_shows_the_same_link() {
    let (fake, app, acc) = setup(|_| {}).await;
    let request = || {
        app.client
            .post(app.url("/api/v1/reservations"))
            .header("idempotency-key", "hold-once")
            .json(&reserve_body(acc, &day(30), &day(33)))
    };
    let first = body(request().send().await.unwrap()).await;
    let again = body(request().send().await.unwrap()).await;
    assert_eq!(first["code"], again["code"]);
    assert!(first["payment_url"].is_string());
    assert_eq!(first["payment_url"], again["payment_url"]);
    assert_eq!(fake.preferences().len(), 1);
}

#[tokio::test]
async fn a_payment_under_the_deposit_keeps_the_hold_and_tells_the_host() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    let short = format!("{}", held.deposit.parse::<f64>().unwrap() - 1.0);
    fake.set_payment(payment("9005", "approved", &short, Some(&held.code)));
    notify(&app, "9005").await;
    let record = wait_payment(&app, "9005", |p| p["status"] == "approved").await;
    assert_eq!(record["flags"], json!(["amount_mismatch"]));
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "pre_reserved");
    assert_eq!(r["payment_status"], "underpaid");
    let flagged = body(
        app.admin_get("/api/v1/admin/payments?flag=amount_mismatch")
            .await,
    )
    .await;
    assert_eq!(flagged.as_array().unwrap().len(), 1);
    assert!(
        outbox_kinds(&app, &held.code)
            .await
            .contains(&"payment_under_deposit:host".to_owned())
    );
    assert!(app.metric("payment_amount_mismatch_total", &[]).await >= 1.0);

    // Another payment covering the rest confirms the hold.
    fake.set_payment(payment("9006", "approved", "1", Some(&held.code)));
    notify(&app, "9006").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    assert_eq!(r["paid_amount"], held.deposit.as_str());
    assert_eq!(payments_of(&app, &held.code).await.len(), 2);
}

#[tokio::test]
async fn a_late_payment_confirms_when_the_dates_are_still_free() {
    let (fake, app, acc) = setup(|raw| raw.reservations.hold_duration = "1s".into()).await;
    let held = hold(&app, acc, 30, 33).await;
    wait_status(&app, &held.code, "expired").await;
    fake.set_payment(payment("9007", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9007").await;
    let r = wait_status(&app, &held.code, "confirmed").await;
    let last = r["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["to"].as_str()),
        (Some("expired"), Some("confirmed"))
    );
    let taken = app.reserve(acc, &day(31), &day(32)).await;
    assert_eq!(
        taken.status(),
        StatusCode::CONFLICT,
        "the revived stay holds its dates"
    );
}

#[tokio::test]
async fn a_late_payment_for_taken_dates_needs_a_refund_and_never_double_books() {
    let (fake, app, acc) = setup(|raw| raw.reservations.hold_duration = "1s".into()).await;
    let first = hold(&app, acc, 30, 33).await;
    wait_status(&app, &first.code, "expired").await;
    let second = hold(&app, acc, 31, 34).await;
    let before = app.metric("payments_needs_refund_total", &[]).await;
    fake.set_payment(payment(
        "9008",
        "approved",
        &first.deposit,
        Some(&first.code),
    ));
    notify(&app, "9008").await;
    let record = wait_payment(&app, "9008", |p| p["status"] == "approved").await;
    assert_eq!(record["flags"], json!(["needs_refund"]));
    let r = reservation(&app, &first.code).await;
    assert_eq!(r["status"], "expired");
    assert_eq!(r["payment_status"], "needs_refund");
    assert_eq!(
        reservation(&app, &second.code).await["status"],
        "pre_reserved"
    );
    let refunds = body(
        app.admin_get("/api/v1/admin/payments?flag=needs_refund")
            .await,
    )
    .await;
    assert_eq!(refunds.as_array().unwrap().len(), 1);
    assert!(
        outbox_kinds(&app, &first.code)
            .await
            .contains(&"payment_needs_refund:host".to_owned())
    );
    assert!(app.metric("payments_needs_refund_total", &[]).await > before);
}

#[tokio::test]
async fn orphan_payments_are_kept_for_the_host() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |_| {}).await;
    fake.set_payment(payment("9009", "approved", "100", Some("RES991231ABCDEF")));
    fake.set_payment(payment("9010", "approved", "100", None));
    notify(&app, "9009").await;
    notify(&app, "9010").await;
    for id in ["9009", "9010"] {
        let record = wait_payment(&app, id, |p| p["status"] == "approved").await;
        assert_eq!(record["flags"], json!(["orphan"]), "{id}");
    }
    let orphans = body(app.admin_get("/api/v1/admin/payments?flag=orphan").await).await;
    assert_eq!(orphans.as_array().unwrap().len(), 2);
    let r = app.admin_get("/api/v1/admin/payments?flag=bogus").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_refund_on_a_confirmed_stay_is_flagged_not_cancelled() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9011", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9011").await;
    wait_status(&app, &held.code, "confirmed").await;
    fake.set_payment(payment("9011", "refunded", &held.deposit, Some(&held.code)));
    notify(&app, "9011").await;
    let record = wait_payment(&app, "9011", |p| p["status"] == "refunded").await;
    assert_eq!(record["flags"], json!(["reversed"]));
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["payment_status"], "reversed");
    assert_eq!(r["paid_amount"], "0.00");
    assert!(
        outbox_kinds(&app, &held.code)
            .await
            .contains(&"payment_reversed:host".to_owned())
    );
}

#[tokio::test]
async fn api_failures_are_retried_and_a_hold_stands_without_a_link() {
    let (fake, app, acc) = setup(|_| {}).await;

    // Mercado Pago down while the hold is taken: the hold stands, without a link, after the
    // retries the settings allow (mercadopago.max_retries = 2 here).
    fake.fail("preferences", &[Fault::Status(500); 3]);
    let held = hold(&app, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    assert_eq!(
        fake.hits("preferences"),
        3,
        "a first attempt and two retries while the guest waits"
    );
    assert_eq!(
        health(&app).await["checks"]["mercadopago"]["status"],
        "failing"
    );

    // On demand, a 503 and a timeout are retried.
    fake.fail(
        "preferences",
        &[Fault::Status(503), Fault::Delay(Duration::from_secs(2))],
    );
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        body(r).await["payment_url"]
            .as_str()
            .unwrap()
            .contains("pref_id=")
    );
    assert_eq!(fake.hits("preferences"), 6);
    assert_eq!(
        health(&app).await["checks"]["mercadopago"]["status"],
        "configured"
    );

    // Fetching the payment: a 500 and a timeout, then the answer.
    fake.fail(
        "payment",
        &[Fault::Status(500), Fault::Delay(Duration::from_secs(2))],
    );
    fake.set_payment(payment("9012", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9012").await;
    wait_status(&app, &held.code, "confirmed").await;
    assert!(fake.hits("payment") >= 3);
    assert!(api_calls(&app, "payment", "server_error").await >= 1.0);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let (fake, app, acc) = setup(|_| {}).await;
    fake.fail("preferences", &[Fault::Status(500); 3]);
    let held = hold(&app, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    let before = fake.hits("preferences");
    fake.fail("preferences", &[Fault::Status(400)]);
    let r = guest_link(&app, &held).await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(body(r).await["error"], "payment_provider_unavailable");
    assert_eq!(fake.hits("preferences"), before + 1, "a 400 is not retried");
    let r = app
        .admin_post(
            &format!("/api/v1/admin/reservations/{}/payment-link", held.code),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the host can ask again");
    assert_eq!(body(r).await["code"], held.code.as_str());
    assert!(
        reservation(&app, &held.code).await["payment_url"].is_string(),
        "the new link is on the hold"
    );
}
