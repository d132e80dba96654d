//! Admin API over real HTTP: authentication on every route, accommodations, reservations,
//! blocks, CSV and stats.

use crate::helpers::{TestApp, body, day, reserve_body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn every_admin_route_refuses_requests_without_a_valid_session() {
    let app = TestApp::spawn().await;
    let doc = body(app.get("/api/v1/openapi.json").await).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin/") || path == "/api/v1/admin/login" {
            continue;
        }
        // Logging in to the web UI is the one admin operation without a session.
        let login = path == "/api/v1/admin/session";
        let concrete = path
            .replace("{id}", "1")
            .replace("{code}", "RES250101AAAAAA");
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_none() || (login && method == "post") {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for token in [None, Some("not-a-session")] {
                let mut req = app
                    .client
                    .request(m.clone(), app.url(&concrete))
                    .json(&json!({}));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await.unwrap();
                assert_eq!(
                    r.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with {token:?}"
                );
                assert_eq!(body(r).await["error"], "unauthorized");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "only {checked} admin operations found in the OpenAPI document"
    );
}

#[tokio::test]
async fn login_needs_the_password_and_logout_revokes_the_session() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/admin/login",
            json!({"email": app.admin_email, "password": "wrong"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(r).await["error"], "invalid_credentials");
    let r = app
        .post(
            "/api/v1/admin/login",
            json!({"email": "nobody@example.com", "password": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .post("/api/v1/admin/login", json!({"email": app.admin_email}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let token = app.login().await;
    let stats_status = |token: String| {
        let req = app
            .client
            .get(app.url("/api/v1/admin/stats"))
            .bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(stats_status(token.clone()).await, StatusCode::OK);
    let r = app
        .client
        .post(app.url("/api/v1/admin/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(stats_status(token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_expire() {
    let app = TestApp::spawn_with(|c| c.admin.session_ttl = "1s".into()).await;
    let token = app.login().await;
    let ok = |t: String| {
        let req = app
            .client
            .get(app.url("/api/v1/admin/stats"))
            .bearer_auth(t);
        async move { req.send().await.unwrap().status() == StatusCode::UNAUTHORIZED }
    };
    assert!(
        crate::helpers::eventually(std::time::Duration::from_secs(5), || ok(token.clone())).await
    );
}

#[tokio::test]
async fn accommodations_are_created_validated_and_updated() {
    let app = TestApp::spawn().await;
    let r = app
        .admin_post(
            "/api/v1/admin/accommodations",
            json!({"name": "", "kind": "cabin", "capacity": 2, "base_price": "100"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(r).await["detail"].as_str().unwrap().contains("name"));
    let r = app
        .admin_post(
            "/api/v1/admin/accommodations",
            json!({"name": "X", "kind": "castle", "capacity": 2, "base_price": "100"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .admin_post(
            "/api/v1/admin/accommodations",
            json!({"name": "X", "kind": "room", "capacity": 2, "base_price": 99.5}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "float prices are refused"
    );

    let id = app.accommodation(json!({
        "seasons": [{"name": "Verano", "from": day(1), "to": day(40), "nightly_price": "20000", "min_stay": 3}]
    })).await;
    let r = app
        .get(&format!(
            "/api/v1/accommodations/{id}/quote?check_in={}&check_out={}",
            day(5),
            day(6)
        ))
        .await;
    assert_eq!(body(r).await["error"], "min_stay");
    let r = app.client.put(app.url(&format!("/api/v1/admin/accommodations/{id}"))).bearer_auth(&app.admin_token)
        .json(&json!({"name": "Renombrada", "kind": "house", "capacity": 8, "base_price": "15000.50", "weekend_nights": []}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let acc = body(r).await;
    assert_eq!(acc["name"], "Renombrada");
    assert_eq!(acc["base_price"], "15000.50");
    let q = body(
        app.get(&format!(
            "/api/v1/accommodations/{id}/quote?check_in={}&check_out={}",
            day(5),
            day(7)
        ))
        .await,
    )
    .await;
    assert_eq!(q["total_price"], "30001.00");
    let r = app
        .client
        .put(app.url("/api/v1/admin/accommodations/999"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"name": "N", "kind": "room", "capacity": 1, "base_price": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await["error"], "accommodation_not_found");
}

#[tokio::test]
async fn manual_bookings_listing_filters_pagination_and_csv() {
    let app = TestApp::spawn().await;
    let a = app.accommodation(json!({})).await;
    let b = app.accommodation(json!({})).await;
    let mut manual = reserve_body(a, &day(3), &day(5));
    manual["confirmed"] = json!(true);
    manual["channel"] = json!("phone");
    manual["contact_name"] = json!("=Carlos, \"el del lago\"");
    let r = app.admin_post("/api/v1/admin/reservations", manual).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m = body(r).await;
    assert_eq!(m["status"], "confirmed");
    assert_eq!(m["channel"], "phone");
    assert_eq!(m["expires_at"], Value::Null);
    for i in 0..5 {
        assert_eq!(
            app.reserve(b, &day(10 + 2 * i), &day(11 + 2 * i))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let page = body(
        app.admin_get(&format!(
            "/api/v1/admin/reservations?accommodation_id={b}&limit=2"
        ))
        .await,
    )
    .await;
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = page["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let p = body(
            app.admin_get(&format!(
                "/api/v1/admin/reservations?accommodation_id={b}&limit=2&cursor={c}"
            ))
            .await,
        )
        .await;
        seen.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned()),
        );
        cursor = p["next_cursor"].as_str().map(str::to_owned);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pagination visits each reservation once");
    let confirmed = body(
        app.admin_get("/api/v1/admin/reservations?status=confirmed")
            .await,
    )
    .await;
    assert_eq!(confirmed["items"].as_array().unwrap().len(), 1);
    let text = body(app.admin_get("/api/v1/admin/reservations?q=carlos").await).await;
    assert_eq!(text["items"][0]["code"], m["code"]);
    let window = body(
        app.admin_get(&format!(
            "/api/v1/admin/reservations?from={}&to={}",
            day(10),
            day(13)
        ))
        .await,
    )
    .await;
    assert_eq!(window["items"].as_array().unwrap().len(), 2);
    let bad = app
        .admin_get("/api/v1/admin/reservations?status=paid")
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let csv = app.admin_get("/api/v1/admin/reservations.csv").await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 7, "header + 6 rows");
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("\"code\",\"status\",\"accommodation_id\",\"check_in\"")
    );
    assert!(
        csv.contains("\"'=Carlos, \"\"el del lago\"\"\""),
        "quoted and formula-safe: {csv}"
    );

    let stats = body(app.admin_get("/api/v1/admin/stats").await).await;
    assert_eq!(stats["counts"]["confirmed"], 1);
    assert_eq!(stats["counts"]["pre_reserved"], 5);
    let revenue = stats["revenue_this_month"].as_str().unwrap();
    assert_eq!(
        revenue.split_once('.').map(|(_, c)| c.len()),
        Some(2),
        "{revenue}"
    );
}

#[tokio::test]
async fn owner_blocks_hold_dates_until_removed() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let r = app.admin_post("/api/v1/admin/blocks", json!({"accommodation_id": id, "check_in": day(5), "check_out": day(9), "reason": "pintura"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let block = body(r).await;
    let code = block["code"].as_str().unwrap();
    assert!(code.starts_with("BLK"));
    assert_eq!(
        app.reserve(id, &day(8), &day(10)).await.status(),
        StatusCode::CONFLICT
    );
    let r = app
        .admin_post(
            "/api/v1/admin/blocks",
            json!({"accommodation_id": id, "check_in": day(6), "check_out": day(7)}),
        )
        .await;
    assert_eq!(body(r).await["error"], "date_overlap");
    let list = body(
        app.admin_get(&format!("/api/v1/admin/blocks?accommodation_id={id}"))
            .await,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/blocks/{code}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.reserve(id, &day(8), &day(10)).await.status(),
        StatusCode::CREATED
    );
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/blocks/{code}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await["error"], "block_not_found");
    let r = app
        .admin_post(
            "/api/v1/admin/blocks",
            json!({"accommodation_id": id, "check_in": day(-1), "check_out": day(2)}),
        )
        .await;
    assert_eq!(body(r).await["error"], "past_dates");
    let r = app
        .admin_post(
            "/api/v1/admin/blocks",
            json!({"accommodation_id": id, "check_in": "-000001-01-01", "check_out": day(2)}),
        )
        .await;
    assert_eq!(body(r).await["error"], "invalid_dates");
}

#[tokio::test]
async fn no_show_only_after_confirmation() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap();
    let r = app.act(code, "no-show", json!({})).await;
    assert_eq!(body(r).await["error"], "invalid_state");
    app.act(code, "confirm", json!({})).await;
    let r = app.act(code, "no-show", json!({})).await;
    let r = body(r).await;
    assert_eq!(r["status"], "no_show");
    assert_eq!(r["history"][2]["actor"]["email"], app.admin_email.as_str());
}
