//! After the hold: who may see a reservation, cancellations by guest and host, lapsed holds.

use super::*;

#[tokio::test]
async fn a_reservation_is_visible_only_with_its_token_or_as_admin() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap();
    let token = hold["access_token"].as_str().unwrap();
    let path = app.url(&format!("/api/v1/reservations/{code}"));

    let r = app.client.get(&path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(&path)
        .bearer_auth("wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let wrong_code = app
        .client
        .get(app.url("/api/v1/reservations/RES250101AAAAAA"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_code.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(wrong_code).await["error"],
        body(r).await["error"],
        "unknown and forbidden look alike"
    );
    let r = app
        .client
        .get(&path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["code"], code);
    let r = app
        .client
        .get(&path)
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reservations/{code}/cancel")))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn guest_cancel_frees_the_dates_with_an_audit_trail() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap();
    let token = hold["access_token"].as_str().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reservations/{code}/cancel")))
        .bearer_auth(token)
        .json(&json!({"reason": "cambio de planes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cancelled = body(r).await;
    assert_eq!(cancelled["status"], "cancelled");
    let last = cancelled["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["from"], "pre_reserved");
    assert_eq!(last["to"], "cancelled");
    assert_eq!(last["actor"]["kind"], "guest");
    assert_eq!(last["reason"], "cambio de planes");
    assert_eq!(
        app.reserve(id, &day(5), &day(8)).await.status(),
        StatusCode::CREATED,
        "same exact range is free again at once"
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reservations/{code}/cancel")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"], "invalid_state");
}

#[tokio::test]
async fn a_guest_cannot_cancel_a_confirmed_booking_but_the_host_can() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap();
    let r = app
        .act(code, "confirm", json!({"reason": "seña por transferencia"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r).await["status"], "confirmed");
    let token = hold["access_token"].as_str().unwrap();
    let guest_view = app
        .client
        .get(app.url(&format!("/api/v1/reservations/{code}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let guest_view = body(guest_view).await;
    assert_eq!(guest_view["history"][1]["actor"]["kind"], "admin");
    assert_eq!(
        guest_view["history"][1]["actor"]["email"], "",
        "the guest does not see the host's email"
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reservations/{code}/cancel")))
        .bearer_auth(hold["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"], "cancellation_requires_host");
    let r = app.act(code, "cancel", json!({})).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the host must give a reason"
    );
    let r = app
        .act(code, "cancel", json!({"reason": "huésped enfermo"}))
        .await;
    assert_eq!(body(r).await["status"], "cancelled");
}

#[tokio::test]
async fn a_lapsed_hold_frees_dates_at_once_and_the_job_marks_it_expired() {
    let app = TestApp::spawn_with(|c| c.reservations.hold_duration = "1s".into()).await;
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap().to_owned();
    let token = hold["access_token"].as_str().unwrap().to_owned();
    let expires: jiff::Timestamp = hold["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.reserve(id, &day(6), &day(7)).await.status(),
        StatusCode::CONFLICT
    );

    let status = |app: &TestApp, code: String| {
        let req = app
            .client
            .get(app.url(&format!("/api/v1/reservations/{code}")))
            .bearer_auth(&token);
        async move {
            body(req.send().await.unwrap()).await["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            jiff::Timestamp::now() > expires
        })
        .await,
        "the hold's time passes"
    );
    let second = app.reserve(id, &day(6), &day(7)).await;
    assert_eq!(
        second.status(),
        StatusCode::CREATED,
        "a lapsed hold blocks nothing, even before the job runs"
    );
    assert!(
        eventually(Duration::from_secs(10), || {
            let s = status(&app, code.clone());
            async move { s.await == "expired" }
        })
        .await,
        "the expiry job marks the hold expired"
    );
    let r = app.act(&code, "confirm", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"], "invalid_state");
    let expired_metric = app.metric("prereservations_expired_total", &[]).await;
    assert!(expired_metric >= 1.0);
}

#[tokio::test]
async fn confirming_a_lapsed_hold_rechecks_the_dates_before_the_expiry_job_runs() {
    let app = TestApp::spawn_with(|c| {
        c.reservations.hold_duration = "1s".into();
        c.jobs.expire_holds = "0 0 0 1 1 *".into();
    })
    .await;
    let id = app.accommodation(json!({})).await;
    let first = body(app.reserve(id, &day(5), &day(8)).await).await;
    let lapsed = first["code"].as_str().unwrap().to_owned();
    let expires: jiff::Timestamp = first["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            jiff::Timestamp::now() > expires
        })
        .await
    );
    let second = body(app.reserve(id, &day(7), &day(9)).await).await;
    assert_eq!(
        second["status"], "pre_reserved",
        "the lapsed hold no longer blocks"
    );
    let r = app.act(&lapsed, "confirm", json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"], "date_overlap");
    let still = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{lapsed}"))
            .await,
    )
    .await;
    assert_eq!(
        still["status"], "pre_reserved",
        "the job has not run; the refused confirm changed nothing"
    );
    let free = body(app.reserve(id, &day(10), &day(12)).await).await;
    let r = app
        .admin_post(
            &format!(
                "/api/v1/admin/reservations/{}/confirm",
                free["code"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a live hold on free dates confirms"
    );
}
