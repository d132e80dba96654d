//! The payment link of a hold being taken: a 429 or 5xx from Mercado Pago is retried within
//! the hold's link budget (2 s), and the hold stands, linked or not, within that budget. A slow
//! API gets no more than four calls at once.

use super::*;

#[tokio::test]
async fn a_new_holds_link_survives_a_429_or_a_503_from_mercado_pago() {
    let (fake, app, acc) = setup(|_| {}).await;
    for (i, status) in [429, 503].into_iter().enumerate() {
        let before = fake.hits("preferences");
        fake.fail("preferences", &[Fault::Status(status)]);
        let started = Instant::now();
        let from = 30 + 5 * i as i64;
        let held = hold(&app, acc, from, from + 2).await;
        assert!(started.elapsed() < Duration::from_secs(3), "{status}");
        let url = held.created["payment_url"].as_str();
        assert!(
            url.is_some_and(|u| u.contains("pref_id=")),
            "{status}: {}",
            held.created
        );
        assert_eq!(
            fake.hits("preferences"),
            before + 2,
            "{status}: retried once"
        );
        assert_eq!(
            reservation(&app, &held.code).await["payment_url"],
            url.unwrap()
        );
    }
    assert!(api_calls(&app, "preferences", "rate_limited").await >= 1.0);
    assert!(api_calls(&app, "preferences", "server_error").await >= 1.0);
}

#[tokio::test]
async fn a_hold_does_not_wait_past_its_link_budget_for_mercado_pago() {
    // Retries wait 2.5 to 5 s here: none fits in the budget.
    let (fake, app, acc) = setup(|raw| {
        raw.mercadopago.timeout = "5s".into();
        raw.mercadopago.retry_base = "5s".into();
        raw.mercadopago.retry_cap = "5s".into();
    })
    .await;
    fake.fail("preferences", &[Fault::Status(503)]);
    let started = Instant::now();
    let held = hold(&app, acc, 30, 33).await;
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "no retry wait"
    );
    assert_eq!(held.created["payment_url"], Value::Null);
    assert_eq!(
        fake.hits("preferences"),
        1,
        "no retry that would start past the budget"
    );

    // A slow answer: the hold is answered when the budget ends, without a link.
    fake.fail("preferences", &[Fault::Delay(Duration::from_secs(4))]);
    let started = Instant::now();
    let slow = hold(&app, acc, 40, 43).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2_800), "answered in {took:?}");
    assert_eq!(slow.created["payment_url"], Value::Null);
    fake.clear_faults();
    let r = guest_link(&app, &held).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the guest can ask for the link again"
    );
}

#[tokio::test]
async fn a_slow_mercado_pago_gets_at_most_four_calls_at_once() {
    let (fake, app, acc) = setup(|raw| raw.mercadopago.timeout = "5s".into()).await;
    fake.fail("preferences", &[Fault::Delay(Duration::from_secs(1)); 12]);
    let mut holds = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..12 {
        let (client, url) = (app.client.clone(), app.url("/api/v1/reservations"));
        let body = reserve_body(acc, &day(30 + 3 * i), &day(32 + 3 * i));
        holds.spawn(async move { client.post(url).json(&body).send().await.unwrap().status() });
    }
    while let Some(status) = holds.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::CREATED);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "every hold answered within its link budget"
    );
    assert!(
        eventually(WAIT, || async { fake.hits("preferences") >= 8 }).await,
        "the waiting calls went on as turns freed"
    );
    assert_eq!(
        fake.most_delayed_at_once(),
        4,
        "no more than four calls open at once"
    );
}
