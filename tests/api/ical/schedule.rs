//! When feeds are fetched: backoff and Retry-After, validators and 304, the scheduler and
//! the staleness health reports, per-feed jitter, and the admin's input checks.

use super::*;

#[tokio::test]
async fn retry_after_and_backoff_push_the_next_run_out() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "booking").await;
    feeds.set(
        "/f.ics",
        Reply::Status {
            code: 429,
            headers: vec![("Retry-After", "3600".into())],
        },
    );
    let report = sync(&app, acc, feed).await;
    assert_eq!(report["error"], "http_429");
    let next: jiff::Timestamp = feed_view(&app, acc, feed).await["next_run"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let wait = next.duration_since(jiff::Timestamp::now()).as_secs();
    assert!(
        (3500..=3600).contains(&wait),
        "Retry-After honoured: {wait}s"
    );

    feeds.set(
        "/f.ics",
        Reply::Status {
            code: 503,
            headers: vec![],
        },
    );
    sync(&app, acc, feed).await;
    let next: jiff::Timestamp = feed_view(&app, acc, feed).await["next_run"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let wait = next.duration_since(jiff::Timestamp::now()).as_secs();
    // Second failure in a row: between half and all of 1m·2 with the default retry_base.
    assert!((55..=120).contains(&wait), "backoff: {wait}s");
}

#[tokio::test]
async fn conditional_fetch_sends_validators_and_counts_304_as_fresh() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    feeds.calendar(
        "/f.ics",
        &calendar(&[event("a@ota", 5, 7, "Reserved")]),
        Some("\"v1\""),
    );
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "vrbo").await;
    assert_eq!(sync(&app, acc, feed).await["outcome"], "ok");
    let report = sync(&app, acc, feed).await;
    assert_eq!(report["outcome"], "not_modified");
    let requests = feeds.requests("/f.ics");
    assert_eq!(
        requests[1].get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert!(
        requests[0]
            .get("accept-encoding")
            .is_some_and(|e| e.contains("gzip")),
        "gzip asked for"
    );
    assert_eq!(imported(&app, acc).await, vec![stay(5, 7, "reservation")]);
    assert!(
        app.metric(
            "ical_sync_runs_total",
            &[("source", "vrbo"), ("result", "not_modified")]
        )
        .await
            >= 1.0
    );
}

#[tokio::test]
async fn the_scheduler_syncs_due_feeds_on_its_own_and_health_reports_staleness() {
    let app = app_with("* * * * * *").await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let health = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(
        health["checks"]["ical_sync"]["status"], "ok",
        "no feeds is fine: {health}"
    );

    feeds.calendar(
        "/f.ics",
        &calendar(&[event("a@ota", 5, 7, "Reserved")]),
        None,
    );
    add_feed(&app, acc, &feeds.url("/f.ics"), "airbnb").await;
    let synced = eventually(Duration::from_secs(10), || async {
        imported(&app, acc).await == vec![stay(5, 7, "reservation")]
    })
    .await;
    assert!(synced, "the scheduler never synced the new feed");
    let health = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(health["checks"]["ical_sync"]["status"], "ok");
    assert!(
        health["checks"]["ical_sync"]["age_minutes"]
            .as_f64()
            .unwrap()
            < 1.0
    );
    assert!(
        app.metric("ical_feed_last_success_timestamp_seconds", &[])
            .await
            > 0.0
    );
}

#[tokio::test]
async fn a_feed_that_never_succeeds_makes_health_degraded_then_unhealthy() {
    let app = TestApp::spawn_with(|r| {
        r.ical.check_schedule = NEVER.into();
        r.ical.degraded_after = "1s".into();
        r.ical.unhealthy_after = "2s".into();
    })
    .await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    feeds.set(
        "/f.ics",
        Reply::Status {
            code: 500,
            headers: vec![],
        },
    );
    let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "airbnb").await;
    sync(&app, acc, feed).await;
    let unhealthy = eventually(Duration::from_secs(10), || async {
        let r = app.get("/api/v1/healthz").await;
        r.status() == StatusCode::SERVICE_UNAVAILABLE
            && body(r).await["checks"]["ical_sync"]["status"] == "unhealthy"
    })
    .await;
    assert!(unhealthy);
    let health = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(health["checks"]["ical_sync"]["failing"], 1);
}

#[tokio::test]
async fn feed_input_is_validated_and_admin_only() {
    let app = app().await;
    let acc = app.accommodation(json!({})).await;
    let path = format!("/api/v1/admin/accommodations/{acc}/feeds");
    for bad in [
        json!({"url": "file:///etc/passwd", "source": "airbnb"}),
        json!({"url": "https://x.example/a.ics", "source": "expedia"}),
        json!({"url": "https://x.example/a.ics"}),
        json!({"url": "https://x.example/a.ics", "source": "airbnb", "name": "x".repeat(101)}),
        json!({"url": "https://x.example/a.ics", "source": "airbnb", "colour": "red"}),
    ] {
        let r = app.admin_post(&path, bad.clone()).await;
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
        assert!(body(r).await["error"].is_string());
    }
    let r = app
        .admin_post(
            "/api/v1/admin/accommodations/999/feeds",
            json!({"url": "https://x.example/a.ics", "source": "airbnb"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(r).await["error"], "accommodation_not_found");
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"url": "https://x.example/a.ics", "source": "airbnb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let feed = add_feed(&app, acc, "https://x.example/a.ics", "airbnb").await;
    let r = app
        .client
        .put(app.url(&format!("{path}/{feed}")))
        .bearer_auth(&app.admin_token)
        .json(&json!({"enabled": false, "name": "Airbnb principal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let view = body(r).await;
    assert_eq!(
        (view["enabled"].as_bool(), view["name"].as_str()),
        (Some(false), Some("Airbnb principal"))
    );
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds/777/sync"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(r).await["error"], "feed_not_found");
}

#[tokio::test]
async fn each_feed_is_scheduled_one_interval_later_with_its_own_jitter() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    feeds.calendar(
        "/f.ics",
        &calendar(&[event("a@ota", 5, 7, "Reserved")]),
        None,
    );
    let mut gaps = Vec::new();
    for _ in 0..4 {
        let acc = app.accommodation(json!({})).await;
        let feed = add_feed(&app, acc, &feeds.url("/f.ics"), "other").await;
        sync(&app, acc, feed).await;
        let view = feed_view(&app, acc, feed).await;
        let at = |k: &str| {
            view[k]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        };
        gaps.push(
            at("next_run")
                .duration_since(at("last_attempt"))
                .as_secs_f64(),
        );
    }
    // The default interval is 15 minutes, jittered by ±10 %.
    for gap in &gaps {
        assert!((810.0..=990.0).contains(gap), "{gaps:?}");
    }
    gaps.sort_by(f64::total_cmp);
    gaps.dedup();
    assert_eq!(gaps.len(), 4, "every feed gets its own jitter: {gaps:?}");
}
