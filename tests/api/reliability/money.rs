//! The money rule over HTTP: the dearest stay validation accepts (highest nightly price, ×10 on
//! every night, the longest stay) is stored and every read of it answers; a price over the cap
//! is refused with 422 `validation` naming the field.

use std::time::Duration;

use crate::helpers::{TestApp, body, eventually};
use reqwest::StatusCode;
use serde_json::json;

const EVERY_DAY: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

#[tokio::test]
async fn the_dearest_accepted_stay_is_stored_and_every_read_of_it_answers() {
    let app = TestApp::spawn_with(|c| c.reservations.max_nights = 365).await;
    let unit = app
        .accommodation(json!({
            "base_price": "1000000000.00", "weekend_multiplier": "10", "weekend_nights": EVERY_DAY,
            "seasons": [{"name": "Alta", "from": crate::helpers::day(10), "to": crate::helpers::day(40),
                         "nightly_price": "1000000000"}]
        }))
        .await;
    let r = app
        .reserve(unit, &crate::helpers::day(2), &crate::helpers::day(2 + 365))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = body(r).await;
    assert_eq!(created["total_price"], "3650000000000.00");
    let code = created["code"].as_str().unwrap().to_owned();

    for path in [
        format!("/api/v1/admin/reservations/{code}"),
        "/api/v1/admin/reservations".to_owned(),
        "/api/v1/admin/reservations.csv".to_owned(),
        "/api/v1/admin/stats".to_owned(),
        format!("/api/v1/admin/reservations/{code}/payments"),
    ] {
        let r = app.admin_get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let one = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(one["total_price"], "3650000000000.00");
    let csv = app
        .admin_get("/api/v1/admin/reservations.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("3650000000000.00"), "{csv}");

    // The hold-expiry job (every second in tests) reads every live hold: it keeps succeeding.
    let ok_before = app
        .metric(
            "job_runs_total",
            &[("job", "expire_holds"), ("outcome", "ok")],
        )
        .await;
    let runs = || async {
        app.metric(
            "job_runs_total",
            &[("job", "expire_holds"), ("outcome", "ok")],
        )
        .await
            >= ok_before + 2.0
    };
    assert!(eventually(Duration::from_secs(10), runs).await);
    assert_eq!(
        app.metric(
            "job_runs_total",
            &[("job", "expire_holds"), ("outcome", "error")]
        )
        .await,
        0.0
    );
    let r = app.act(&code, "confirm", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn prices_over_the_cap_are_refused_with_validation_naming_the_field() {
    let app = TestApp::spawn().await;
    let base = json!({"name": "Cara", "kind": "cabin", "capacity": 2});
    let cases = [
        (json!({"base_price": "1000000000.01"}), "base_price"),
        (json!({"base_price": "9999999999999999"}), "base_price"),
        (
            json!({"base_price": "99999999999999999999.00"}),
            "base_price",
        ),
        (
            json!({"base_price": "100", "weekend_multiplier": "10.0001"}),
            "weekend_multiplier",
        ),
        (
            json!({"base_price": "100", "seasons": [{"name": "Alta", "from": "2027-01-01",
                   "to": "2027-02-01", "nightly_price": "1000000001"}]}),
            "seasons.nightly_price",
        ),
    ];
    for (extra, field) in cases {
        let mut input = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        let r = app
            .admin_post("/api/v1/admin/accommodations", input.clone())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{input}");
        let b = body(r).await;
        assert_eq!(b["error"], "validation", "{input}");
        assert!(b["detail"].as_str().unwrap().contains(field), "{b}");
    }
}
