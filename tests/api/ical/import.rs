//! Importing OTA feeds: real-world calendars, moves and cancellations, partial or failed
//! fetches that never release dates, the churn guard, and conflicts with local bookings.

use super::*;

#[tokio::test]
async fn real_ota_feeds_import_as_bookings_and_blocks_that_hold_dates() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    for name in ["airbnb", "booking", "vrbo"] {
        feeds.calendar(&format!("/{name}.ics"), &fixture(name), None);
    }
    let airbnb = add_feed(&app, acc, &feeds.url("/airbnb.ics"), "airbnb").await;
    let booking = add_feed(&app, acc, &feeds.url("/booking.ics"), "booking").await;
    let vrbo = add_feed(&app, acc, &feeds.url("/vrbo.ics"), "vrbo").await;

    let report = sync(&app, acc, airbnb).await;
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["created"], 3, "the past event is skipped: {report}");
    assert_eq!(sync(&app, acc, booking).await["created"], 2);
    let report = sync(&app, acc, vrbo).await;
    assert_eq!(
        report["created"], 1,
        "the cancelled one is not created: {report}"
    );

    assert_eq!(
        imported(&app, acc).await,
        vec![
            stay(10, 13, "reservation"),
            stay(20, 24, "reservation"),
            stay(30, 33, "block"),
            stay(40, 42, "block"),
            stay(50, 53, "reservation"),
            stay(365, 400, "block"),
        ]
    );
    let view = feed_view(&app, acc, vrbo).await;
    assert_eq!(view["counts"]["broken"], 1, "{view}");
    assert_eq!(view["counts"]["reservations"], 1);
    assert!(view["last_success"].is_string());
    assert!(view["last_error"].is_null());
    let view = feed_view(&app, acc, airbnb).await;
    assert_eq!(view["counts"]["reservations"], 2);
    assert_eq!(view["counts"]["blocks"], 1);
    assert_eq!(view["name"], "Airbnb");
    assert!(view["next_run"].is_string());

    let r = app.reserve(acc, &day(11), &day(12)).await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "no hold over imported dates"
    );
    assert_eq!(body(r).await["error"], "date_overlap");
    let r = app.reserve(acc, &day(31), &day(32)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "blocks hold dates too");
    assert_eq!(
        app.reserve(acc, &day(13), &day(15)).await.status(),
        StatusCode::CREATED
    );

    let text = export_text(&app, acc).await;
    assert!(
        !text.contains(&format!("DTSTART;VALUE=DATE:{}", ymd(10))),
        "imported stays are not re-exported by default"
    );
    let r = app
        .client
        .put(app.url(&format!("/api/v1/admin/accommodations/{acc}/ical")))
        .bearer_auth(&app.admin_token)
        .json(&json!({"include_imported": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = export_text(&app, acc).await;
    assert!(text.contains(&format!("DTSTART;VALUE=DATE:{}", ymd(10))));
    assert!(
        !text.contains("airbnb.com"),
        "foreign UIDs are replaced by ours"
    );

    assert!(
        app.metric("ical_events_imported_total", &[("source", "airbnb")])
            .await
            >= 3.0
    );
    assert!(
        app.metric(
            "ical_sync_runs_total",
            &[("source", "booking"), ("result", "ok")]
        )
        .await
            >= 1.0
    );
}

#[tokio::test]
async fn moves_cancellations_and_disappearances_change_imported_stays() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    feeds.calendar(
        "/f.ics",
        &calendar(&[
            event("a@ota", 5, 7, "Reserved"),
            event("b@ota", 10, 12, "Reserved"),
            event("c@ota", 20, 22, "Reserved"),
            event("d@ota", 30, 32, "Reserved"),
        ]),
        None,
    );
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "other").await;
    assert_eq!(sync(&app, acc, feed).await["created"], 4);

    let mut cancelled_c = event("c@ota", 20, 22, "Reserved");
    cancelled_c = cancelled_c.replace("SUMMARY", "STATUS:CANCELLED\r\nSUMMARY");
    feeds.calendar(
        "/f.ics",
        &calendar(&[
            event("a@ota", 6, 9, "Reserved"),
            cancelled_c,
            event("d@ota", 30, 32, "Reserved"),
        ]),
        None,
    );
    let report = sync(&app, acc, feed).await;
    assert_eq!(
        (report["moved"].as_u64(), report["released"].as_u64()),
        (Some(1), Some(2)),
        "{report}"
    );
    assert_eq!(
        imported(&app, acc).await,
        vec![stay(6, 9, "reservation"), stay(30, 32, "reservation")]
    );
    assert_eq!(
        app.reserve(acc, &day(10), &day(12)).await.status(),
        StatusCode::CREATED,
        "disappeared dates are free"
    );
    assert_eq!(
        app.reserve(acc, &day(20), &day(22)).await.status(),
        StatusCode::CREATED,
        "cancelled dates are free"
    );
    assert_eq!(
        app.reserve(acc, &day(5), &day(6)).await.status(),
        StatusCode::CREATED,
        "moved away from"
    );
    assert_eq!(
        app.reserve(acc, &day(8), &day(9)).await.status(),
        StatusCode::CONFLICT,
        "moved onto"
    );
    assert!(
        app.metric("ical_events_released_total", &[("source", "other")])
            .await
            >= 2.0
    );

    let r = app
        .client
        .delete(app.url(&format!("/api/v1/admin/accommodations/{acc}/feeds/{feed}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        imported(&app, acc).await.is_empty(),
        "removing a feed releases its stays"
    );
    assert_eq!(
        app.reserve(acc, &day(30), &day(32)).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn failed_or_partial_fetches_never_release_dates() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let full = calendar(&[
        event("a@ota", 5, 7, "Reserved"),
        event("b@ota", 10, 12, "Reserved"),
    ]);
    feeds.calendar("/f.ics", &full, None);
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "airbnb").await;
    assert_eq!(sync(&app, acc, feed).await["created"], 2);
    let before = imported(&app, acc).await;

    let only_a = calendar(&[event("a@ota", 5, 7, "Reserved")]);
    let cut_calendar = only_a.trim_end_matches("END:VCALENDAR\r\n").to_owned();
    let huge = calendar(
        &(0..2000)
            .map(|i| event(&format!("h{i}@ota"), 5, 7, "Reserved"))
            .collect::<Vec<_>>(),
    );
    let broken_b = calendar(&[
        event("a@ota", 5, 7, "Reserved"),
        "BEGIN:VEVENT\r\nUID:b@ota\r\nDTSTART;VALUE=DATE:garbage\r\nEND:VEVENT\r\n".to_owned(),
    ]);
    let cases: Vec<(&str, Reply)> = vec![
        (
            "http_5xx",
            Reply::Status {
                code: 500,
                headers: vec![],
            },
        ),
        (
            "http_4xx",
            Reply::Status {
                code: 404,
                headers: vec![],
            },
        ),
        ("timeout", Reply::Hang),
        ("network", Reply::CutShort(only_a.clone().into_bytes())),
        (
            "truncated",
            Reply::Calendar {
                body: cut_calendar.into_bytes(),
                etag: None,
            },
        ),
        (
            "parse",
            Reply::Calendar {
                body: b"<html><body>Service unavailable</body></html>".to_vec(),
                etag: None,
            },
        ),
        (
            "empty",
            Reply::Calendar {
                body: Vec::new(),
                etag: None,
            },
        ),
        (
            "too_large",
            Reply::Calendar {
                body: huge.into_bytes(),
                etag: None,
            },
        ),
    ];
    for (code, reply) in cases {
        feeds.set("/f.ics", reply);
        let report = sync(&app, acc, feed).await;
        assert_eq!(report["outcome"], "error", "{code}: {report}");
        assert_eq!(report["error"], code, "{report}");
        assert_eq!(imported(&app, acc).await, before, "{code} released dates");
        let view = feed_view(&app, acc, feed).await;
        assert_eq!(view["last_error"], code);
        assert!(view["enabled"].as_bool().unwrap(), "never disabled");
        assert!(
            app.metric(
                "ical_sync_errors_total",
                &[("source", "airbnb"), ("error_type", code)]
            )
            .await
                >= 1.0,
            "{code}"
        );
    }
    assert_eq!(feed_view(&app, acc, feed).await["failures"], 8);

    feeds.calendar("/f.ics", &broken_b, None);
    let report = sync(&app, acc, feed).await;
    assert_eq!(report["outcome"], "ok");
    assert_eq!(
        report["released"], 0,
        "an unreadable event is not a disappearance"
    );
    assert_eq!(imported(&app, acc).await, before);

    feeds.calendar("/f.ics", &only_a, None);
    assert_eq!(
        sync(&app, acc, feed).await["released"],
        1,
        "a clean snapshot does release"
    );
    let view = feed_view(&app, acc, feed).await;
    assert_eq!(view["failures"], 0);
    assert!(view["last_error"].is_null());
}

#[tokio::test]
async fn uid_churn_is_held_back_until_the_host_accepts_it() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let original: Vec<String> = (0..6)
        .map(|i| event(&format!("old{i}@ota"), 5 + 3 * i, 7 + 3 * i, "Reserved"))
        .collect();
    feeds.calendar("/f.ics", &calendar(&original), None);
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "airbnb").await;
    assert_eq!(sync(&app, acc, feed).await["created"], 6);
    let before = imported(&app, acc).await;

    let regenerated: Vec<String> = (0..6)
        .map(|i| event(&format!("new{i}@ota"), 5 + 3 * i, 7 + 3 * i, "Reserved"))
        .collect();
    feeds.calendar("/f.ics", &calendar(&regenerated), None);
    let report = sync(&app, acc, feed).await;
    assert_eq!(report["outcome"], "held_back", "{report}");
    assert_eq!(report["held_back"], 6);
    assert_eq!(imported(&app, acc).await, before, "nothing applied");
    let view = feed_view(&app, acc, feed).await;
    assert_eq!(view["last_error"], "churn_held_back");

    let report = sync_with(&app, acc, feed, "?accept_churn=true").await;
    assert_eq!(report["outcome"], "ok");
    assert_eq!(
        (report["released"].as_u64(), report["created"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(imported(&app, acc).await, before, "same dates, new UIDs");
}

#[tokio::test]
async fn imported_stays_over_local_bookings_are_recorded_and_flagged() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let code = hold(&app, acc, 10, 13).await;
    assert_eq!(
        app.act(&code, "confirm", json!({})).await.status(),
        StatusCode::OK
    );
    feeds.calendar(
        "/f.ics",
        &calendar(&[
            event("dbl@ota", 12, 15, "Reserved"),
            event("ok@ota", 20, 22, "Reserved"),
        ]),
        None,
    );
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "booking").await;
    let report = sync(&app, acc, feed).await;
    assert_eq!(
        (report["created"].as_u64(), report["conflicts"].as_u64()),
        (Some(2), Some(1))
    );

    let r = app
        .admin_get(&format!(
            "/api/v1/admin/ical/conflicts?accommodation_id={acc}"
        ))
        .await;
    let conflicts = body(r).await;
    let conflicts = conflicts.as_array().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["check_in"], day(12));
    assert_eq!(conflicts[0]["conflicts_with"], json!([code]));
    assert!(
        app.metric("ical_conflicts_total", &[("source", "booking")])
            .await
            >= 1.0
    );

    assert_eq!(
        app.act(&code, "cancel", json!({"reason": "duplicada"}))
            .await
            .status(),
        StatusCode::OK
    );
    let r = app.admin_get("/api/v1/admin/ical/conflicts").await;
    assert!(
        body(r).await.as_array().unwrap().is_empty(),
        "resolved once the local booking is gone"
    );
}
