//! Quotes and holds: prices, overlaps, stable error codes, idempotency keys, what is on sale.

use super::*;

#[tokio::test]
async fn pricing_anchor_friday_to_monday_quote_and_hold_agree() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let fri = next_friday_offset();
    let (ci, co) = (day(fri), day(fri + 3));
    let q = body(
        app.get(&format!(
            "/api/v1/accommodations/{id}/quote?check_in={ci}&check_out={co}&guests=2"
        ))
        .await,
    )
    .await;
    assert_eq!(q["total_price"], "48000.00");
    assert_eq!(q["deposit_amount"], "14400.00");
    assert_eq!(q["nights"], 3);
    assert_eq!(q["available"], true);
    let prices: Vec<&str> = q["nightly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["price"].as_str().unwrap())
        .collect();
    assert_eq!(prices, ["18000.00", "18000.00", "12000.00"]);

    let r = app.reserve(id, &ci, &co).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let hold = body(r).await;
    assert_eq!(hold["status"], "pre_reserved");
    assert_eq!(hold["total_price"], "48000.00");
    assert_eq!(hold["deposit_amount"], "14400.00");
    assert_eq!(hold["currency"], "ARS");
    assert_eq!(hold["nights"], 3);
    assert_eq!(hold["contact_phone"], "+5491122334455");
    let code = hold["code"].as_str().unwrap();
    assert!(code.starts_with("RES") && code.len() == 15, "{code}");
    assert!(hold["access_token"].as_str().unwrap().len() >= 32);
    let expires: jiff::Timestamp = hold["expires_at"].as_str().unwrap().parse().unwrap();
    let minutes = expires.duration_since(jiff::Timestamp::now()).as_secs_f64() / 60.0;
    assert!(
        (29.0..=30.1).contains(&minutes),
        "hold lasts 30 minutes, got {minutes}"
    );

    let q = body(
        app.get(&format!(
            "/api/v1/accommodations/{id}/quote?check_in={ci}&check_out={co}"
        ))
        .await,
    )
    .await;
    assert_eq!(q["available"], false);
}

#[tokio::test]
async fn overlapping_hold_is_refused_and_back_to_back_is_allowed() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    assert_eq!(
        app.reserve(id, &day(10), &day(13)).await.status(),
        StatusCode::CREATED
    );
    let r = app.reserve(id, &day(12), &day(14)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(body(r).await["error"], "date_overlap");
    assert_eq!(
        app.reserve(id, &day(13), &day(15)).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.reserve(id, &day(8), &day(10)).await.status(),
        StatusCode::CREATED
    );
    let avail = body(
        app.get(&format!(
            "/api/v1/accommodations/{id}/availability?from={}&to={}",
            day(7),
            day(16)
        ))
        .await,
    )
    .await;
    let flags: Vec<bool> = avail["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["available"].as_bool().unwrap())
        .collect();
    assert_eq!(
        flags,
        [true, false, false, false, false, false, false, false, true]
    );
}

#[tokio::test]
async fn each_invalid_request_gets_its_own_stable_code() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({"min_stay": 2})).await;
    let cases = [
        (reserve_body(id, &day(5), &day(5)), 422, "invalid_dates"),
        (reserve_body(id, &day(6), &day(5)), 422, "invalid_dates"),
        (
            reserve_body(id, "2025-02-30", &day(5)),
            422,
            "invalid_dates",
        ),
        (reserve_body(id, &day(5), &day(200)), 422, "invalid_dates"),
        (
            reserve_body(id, "-000001-01-01", &day(5)),
            422,
            "invalid_dates",
        ),
        (reserve_body(id, &day(-2), &day(3)), 422, "past_dates"),
        (reserve_body(id, &day(5), &day(6)), 422, "min_stay"),
        (
            reserve_body(999, &day(5), &day(8)),
            404,
            "accommodation_not_found",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["guests"] = json!(0);
                b
            },
            422,
            "invalid_guests",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["guests"] = json!(-3);
                b
            },
            422,
            "invalid_guests",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["guests"] = json!(5);
                b
            },
            422,
            "capacity_exceeded",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["contact_phone"] = json!("abc");
                b
            },
            422,
            "validation",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["contact_email"] = json!("nope");
                b
            },
            422,
            "validation",
        ),
        (
            {
                let mut b = reserve_body(id, &day(5), &day(8));
                b["confirmed"] = json!(true);
                b
            },
            422,
            "validation",
        ),
        (json!({"accommodation_id": id}), 422, "validation"),
    ];
    for (req, status, code) in cases {
        let r = app.post("/api/v1/reservations", req.clone()).await;
        assert_eq!(r.status().as_u16(), status, "{req}");
        let b = body(r).await;
        assert_eq!(b["error"], code, "{req} -> {b}");
        assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let r = app
        .client
        .post(app.url("/api/v1/reservations"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r).await["error"], "invalid_json");
    let r = app
        .get(&format!(
            "/api/v1/accommodations/{id}/quote?check_in=x&check_out={}",
            day(3)
        ))
        .await;
    assert_eq!(body(r).await["error"], "invalid_dates");
    let r = app.get("/api/v1/accommodations/abc/quote").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let send = |b: serde_json::Value| {
        app.client
            .post(app.url("/api/v1/reservations"))
            .header("Idempotency-Key", "retry-1")
            .json(&b)
            .send()
    };
    let first = send(reserve_body(id, &day(5), &day(8))).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.text().await.unwrap();
    let again = send(reserve_body(id, &day(5), &day(8))).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.text().await.unwrap(),
        first,
        "the replay is the original body"
    );
    let other = send(reserve_body(id, &day(9), &day(12))).await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(other).await["error"], "idempotency_key_reused");
    let list = body(app.admin_get("/api/v1/admin/reservations").await).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "the retry created nothing"
    );
}

#[tokio::test]
async fn accommodations_list_shows_only_active_ones() {
    let app = TestApp::spawn().await;
    let a = app.accommodation(json!({"name": "Activa"})).await;
    let b = app.accommodation(json!({"name": "Inactiva"})).await;
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{b}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(body(r).await["active"], false);
    let list = body(app.get("/api/v1/accommodations").await).await;
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [a]);
    let r = app.reserve(b, &day(5), &day(8)).await;
    assert_eq!(body(r).await["error"], "accommodation_not_found");
}
