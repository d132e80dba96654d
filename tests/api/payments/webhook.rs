//! Getting payment news: notifications signed as Mercado Pago documents them, recorded once
//! however often or out of order they come, kept across a crash, and reconciliation when one
//! is lost.

use super::*;

#[tokio::test]
async fn only_notifications_signed_as_documented_are_accepted() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |_| {}).await;
    let before = app
        .metric(
            "webhook_signature_invalid_total",
            &[("source", "mercadopago")],
        )
        .await;
    let id = "1234567890";
    let path = format!("{WEBHOOK}?data.id={id}&type=payment");
    let ts = now_s();
    let good = signature(SECRET, id, "req-1", ts);
    let r = send(&app, &path, Some(good.clone()), notification_body(id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "accepted");

    let v1 = good.split_once(",v1=").unwrap().1.to_owned();
    let tampered = format!("{WEBHOOK}?data.id=1234567891&type=payment");
    let cases: Vec<(&str, &str, Option<String>)> = vec![
        (
            "wrong secret",
            path.as_str(),
            Some(signature("other", id, "req-1", ts)),
        ),
        ("tampered data.id", tampered.as_str(), Some(good.clone())),
        ("missing ts", path.as_str(), Some(format!("v1={v1}"))),
        (
            "stale ts",
            path.as_str(),
            Some(signature(SECRET, id, "req-1", ts - 301)),
        ),
        ("malformed", path.as_str(), Some("sha256=abcdef".to_owned())),
        ("no header", path.as_str(), None),
        (
            "other request id",
            path.as_str(),
            Some(signature(SECRET, id, "req-2", ts)),
        ),
    ];
    for (what, path, sig) in &cases {
        let r = send(&app, path, sig.clone(), notification_body(id)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(body(r).await["error"], "invalid_signature", "{what}");
    }
    let after = app
        .metric(
            "webhook_signature_invalid_total",
            &[("source", "mercadopago")],
        )
        .await;
    assert!(after - before >= cases.len() as f64, "{before} -> {after}");

    // Alphanumeric ids are lower-cased in the manifest; the original path is accepted too.
    let ts = now_s();
    let sig = signature(SECRET, "abc123", "req-1", ts);
    let r = send(
        &app,
        "/api/v1/mercadopago/webhook?data.id=ABC123&type=merchant_order",
        Some(sig),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "ignored");
}

#[tokio::test]
async fn without_a_secret_the_webhook_refuses_everything_and_health_says_so() {
    let fake = FakeMp::start().await;
    let app = spawn(&fake, |raw| raw.mercadopago.webhook_secret = String::new()).await;
    let id = "555";
    let sig = signature("", id, "req-1", now_s());
    let r = send(
        &app,
        &format!("{WEBHOOK}?data.id={id}&type=payment"),
        Some(sig),
        notification_body(id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(r).await["error"], "webhook_not_configured");
    let h = health(&app).await;
    assert_eq!(h["checks"]["mercadopago"]["webhook"], "not_configured");
    assert_eq!(h["checks"]["mercadopago"]["status"], "configured");
    assert_eq!(h["status"], "degraded");

    let off = TestApp::spawn().await;
    let h = health(&off).await;
    assert_eq!(h["checks"]["mercadopago"]["status"], "not_configured");
    let acc = off.accommodation(json!({})).await;
    let held = hold(&off, acc, 30, 33).await;
    assert_eq!(held.created["payment_url"], Value::Null);
    let r = guest_link(&off, &held).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(r).await["error"], "payments_not_configured");
}

#[tokio::test]
async fn duplicate_and_concurrent_notifications_count_once() {
    let (fake, app, acc) = setup(|_| {}).await;
    let held = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9002", "approved", &held.deposit, Some(&held.code)));
    notify(&app, "9002").await;
    wait_status(&app, &held.code, "confirmed").await;
    // Counted before the duplicates: the worker may look at all of them before they are all
    // answered.
    let hits = fake.hits("payment");
    notify(&app, "9002").await;

    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let client = app.client.clone();
        let (path, sig, body) = if i % 2 == 0 {
            let sig = signature(SECRET, "9002", "req-1", now_s());
            (
                format!("{WEBHOOK}?data.id=9002&type=payment"),
                sig,
                notification_body("9002"),
            )
        } else {
            // The older IPN form on the original path, signed without an id: answered 200 but its
            // unsigned id is ignored (the data.id ones carry the payment).
            let ts = now_s();
            let manifest = format!("request-id:req-1;ts:{ts};");
            let sig = format!(
                "ts={ts},v1={}",
                hmac_sha256_hex(SECRET.as_bytes(), manifest.as_bytes())
            );
            (
                "/api/v1/mercadopago/webhook?topic=payment&id=9002".to_owned(),
                sig,
                Value::Null,
            )
        };
        let url = app.url(&path);
        set.spawn(async move {
            let mut req = client
                .post(url)
                .header("x-signature", sig)
                .header("x-request-id", "req-1");
            if !body.is_null() {
                req = req.json(&body);
            }
            req.send().await.unwrap().status()
        });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert!(
        eventually(WAIT, || async { fake.hits("payment") > hits }).await,
        "the duplicates were looked at"
    );
    let record = wait_payment(&app, "9002", |p| p["events"].as_u64().unwrap() >= 2).await;
    assert_eq!(record["history"].as_array().unwrap().len(), 1);
    assert!(
        eventually(WAIT, || async {
            health(&app).await["checks"]["mercadopago"]["pending_notifications"] == 0
        })
        .await,
        "the inbox drains"
    );
    let r = reservation(&app, &held.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(confirmations(&r), 1);
    assert_eq!(r["paid_amount"], held.deposit.as_str(), "counted once");
    assert_eq!(payments_of(&app, &held.code).await.len(), 1);
    let confirmed = outbox_kinds(&app, &held.code).await;
    assert_eq!(
        confirmed
            .iter()
            .filter(|k| k.starts_with("booking_confirmed"))
            .count(),
        2
    );
}

#[tokio::test]
async fn statuses_out_of_order_never_undo_a_decision() {
    let (fake, app, acc) = setup(|_| {}).await;

    // pending, then approved
    let a = hold(&app, acc, 30, 33).await;
    fake.set_payment(payment("9003", "pending", &a.deposit, Some(&a.code)));
    notify(&app, "9003").await;
    wait_payment(&app, "9003", |p| p["status"] == "pending").await;
    assert_eq!(reservation(&app, &a.code).await["status"], "pre_reserved");
    fake.set_payment(payment("9003", "approved", &a.deposit, Some(&a.code)));
    notify(&app, "9003").await;
    wait_status(&app, &a.code, "confirmed").await;
    let record = payment_record(&app, "9003").await.unwrap();
    let seen: Vec<&str> = record["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["pending", "approved"]);

    // approved, then a stale pending
    let b = hold(&app, acc, 40, 43).await;
    fake.script_payment(vec![
        payment("9004", "approved", &b.deposit, Some(&b.code)),
        payment("9004", "pending", &b.deposit, Some(&b.code)),
    ]);
    notify(&app, "9004").await;
    wait_status(&app, &b.code, "confirmed").await;
    notify(&app, "9004").await;
    let record = wait_payment(&app, "9004", |p| p["events"] == 2).await;
    assert_eq!(record["status"], "approved");
    assert_eq!(record["history"].as_array().unwrap().len(), 1);
    let r = reservation(&app, &b.code).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["paid_amount"], b.deposit.as_str());
}

#[tokio::test]
async fn reconciliation_recovers_a_lost_notification() {
    let (fake, app, acc) = setup(|raw| raw.mercadopago.reconcile = "* * * * * *".into()).await;
    let held = hold(&app, acc, 30, 33).await;
    assert!(held.created["payment_url"].is_string());
    fake.set_payment(payment("9013", "approved", &held.deposit, Some(&held.code)));
    wait_status(&app, &held.code, "confirmed").await;
    assert!(fake.hits("search") >= 1);
    assert_eq!(fake.hits("payment"), 0, "no notification was ever received");
    assert_eq!(payments_of(&app, &held.code).await.len(), 1);
}

#[tokio::test]
async fn a_recorded_notification_survives_a_crash() {
    let fake = FakeMp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let with_mp = |dir: &std::path::Path| {
        let mut c = command(dir);
        for (key, value) in [
            ("API_BASE_URL", fake.url().as_str()),
            ("ACCESS_TOKEN", TOKEN),
            ("WEBHOOK_SECRET", SECRET),
            ("RETRY_BASE", "10ms"),
            ("RETRY_CAP", "50ms"),
            ("INBOX_SWEEP", "100ms"),
            ("RECONCILE", "0 0 0 1 1 *"),
        ] {
            c.env(format!("ALOJAMIENTOS_MERCADOPAGO__{key}"), value);
        }
        c
    };
    let mut server = start_with(with_mp(dir.path())).await;
    let client = Client::new();
    let email = "admin@alojamientos.local";
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, email, &password).await;
    let acc = create_room(&client, &server.base, &token, "A").await;
    let r = client
        .post(format!("{}/api/v1/reservations", server.base))
        .json(&reserve_body(acc, &day(30), &day(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = body(r).await;
    let code = created["code"].as_str().unwrap().to_owned();
    let deposit = created["deposit_amount"].as_str().unwrap().to_owned();

    // Mercado Pago cannot show the payment yet: the notification waits in the inbox.
    fake.fail("payment", &[Fault::Status(500); 1000]);
    fake.set_payment(payment("9014", "approved", &deposit, Some(&code)));
    notify_at(&client, &server.base, "9014").await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    fake.clear_faults();
    let restarted = start_with(with_mp(dir.path())).await;
    let token = login(&client, &restarted.base, email, &password).await;
    let url = format!("{}/api/v1/admin/reservations/{code}", restarted.base);
    let confirmed = eventually(WAIT, || async {
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        body(r).await["status"] == "confirmed"
    })
    .await;
    assert!(
        confirmed,
        "the notification recorded before the crash was processed after it"
    );
}
