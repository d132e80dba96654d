//! Our export as OTAs read it: RFC 5545 without guest data, conditional requests, lapsed
//! holds, and our own UIDs coming back.

use super::*;

#[tokio::test]
async fn export_is_rfc5545_without_guest_data_and_parses_independently() {
    let app = app().await;
    let long_name = "Cabaña del Bosque — vista al lago, añoranzas y ñandúes; pensada para familias";
    let acc = app.accommodation(json!({"name": long_name})).await;

    let empty = export_text(&app, acc).await;
    let (name, events) = parse_independently(&empty);
    assert!(events.is_empty());
    assert!(name.starts_with("Cabaña del Bosque"));

    let confirmed = hold(&app, acc, 3, 5).await;
    assert_eq!(
        app.act(&confirmed, "confirm", json!({})).await.status(),
        StatusCode::OK
    );
    let live = hold(&app, acc, 8, 10).await;
    block(&app, acc, 12, 15).await;

    let r = app.get(&export_path(&app, acc).await).await;
    assert_eq!(r.headers()[CONTENT_TYPE], "text/calendar; charset=utf-8");
    let text = r.text().await.unwrap();
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(!line.contains('\n'), "bare LF in {line:?}");
        assert!(
            line.len() <= 75,
            "unfolded line of {} octets: {line:?}",
            line.len()
        );
    }
    for header in [
        "VERSION:2.0",
        "PRODID:",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        assert!(text.contains(&format!("\r\n{header}")), "{header}");
    }
    for secret in [
        confirmed.as_str(),
        live.as_str(),
        "Ana",
        "ana@example.com",
        "2233",
    ] {
        assert!(!text.contains(secret), "export leaks {secret}");
    }

    let (name, mut events) = parse_independently(&text);
    assert_eq!(name, long_name, "folding and escaping round-trip");
    events.sort_by(|a, b| a[1].cmp(&b[1]));
    let expected = [
        (3, 5, "Reservado"),
        (8, 10, "Reservado"),
        (12, 15, "Bloqueado"),
    ];
    assert_eq!(events.len(), expected.len());
    for (e, (from, to, summary)) in events.iter().zip(expected) {
        assert!(e[0].ends_with(&format!("@{UID_DOMAIN}")), "{}", e[0]);
        assert_eq!(e[1], ymd(from));
        assert_eq!(e[2], ymd(to), "DTEND is the check-out day");
        assert_eq!(e[3], summary);
    }
    assert!(text.contains(&format!("DTSTART;VALUE=DATE:{}", ymd(3))));

    let again = export_text(&app, acc).await;
    assert_eq!(
        text, again,
        "same data, same bytes (stable UIDs and DTSTAMPs)"
    );
}

#[tokio::test]
async fn export_answers_conditional_requests_and_hides_which_part_was_wrong() {
    let app = app().await;
    let acc = app.accommodation(json!({})).await;
    let path = export_path(&app, acc).await;
    assert!(path.ends_with(".ics"));

    let first = app.get(&path).await;
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    let modified = first.headers()[LAST_MODIFIED].to_str().unwrap().to_owned();
    let same = app
        .client
        .get(app.url(&path))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
    let same = app
        .client
        .get(app.url(&path))
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);

    tokio::time::sleep(Duration::from_millis(1100)).await; // Last-Modified has 1 s resolution
    block(&app, acc, 5, 6).await;
    let changed = app
        .client
        .get(app.url(&path))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG].to_str().unwrap(), etag);
    let changed = app
        .client
        .get(app.url(&path))
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);

    let without_suffix = app.get(path.trim_end_matches(".ics")).await;
    assert_eq!(without_suffix.status(), StatusCode::OK);

    let token = path.rsplit('/').next().unwrap().trim_end_matches(".ics");
    let wrong_token = app
        .get(&format!("/api/v1/ical/export/{acc}/{}.ics", "0".repeat(32)))
        .await;
    let wrong_acc = app
        .get(&format!("/api/v1/ical/export/9999/{token}.ics"))
        .await;
    let junk_acc = app.get(&format!("/api/v1/ical/export/x/{token}.ics")).await;
    assert_eq!(wrong_token.status(), StatusCode::NOT_FOUND);
    assert_eq!(wrong_acc.status(), StatusCode::NOT_FOUND);
    assert_eq!(junk_acc.status(), StatusCode::NOT_FOUND);
    let bodies = [
        wrong_token.text().await.unwrap(),
        wrong_acc.text().await.unwrap(),
        junk_acc.text().await.unwrap(),
    ];
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");

    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/ical/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rotated = body(r).await["export_path"].as_str().unwrap().to_owned();
    assert_ne!(rotated, path);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&rotated).await.status(), StatusCode::OK);
    assert!(
        app.metric("ical_export_requests_total", &[("result", "not_found")])
            .await
            >= 4.0
    );

    let anonymous = app
        .client
        .post(app.url(&format!("/api/v1/admin/accommodations/{acc}/ical/rotate")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_lapsed_hold_leaves_the_export_even_before_the_expiry_job_runs() {
    let app = TestApp::spawn_with(|r| {
        r.ical.check_schedule = NEVER.into();
        r.jobs.expire_holds = NEVER.into();
        r.reservations.hold_duration = "2s".into();
    })
    .await;
    let acc = app.accommodation(json!({})).await;
    hold(&app, acc, 5, 7).await;
    let start = format!("DTSTART;VALUE=DATE:{}", ymd(5));
    let first = export_text(&app, acc).await;
    assert!(first.contains(&start), "a live hold is exported");
    assert_eq!(
        export_text(&app, acc).await,
        first,
        "served again unchanged"
    );
    let gone = eventually(Duration::from_secs(10), || async {
        !export_text(&app, acc).await.contains(&start)
    })
    .await;
    assert!(gone, "the lapsed hold is still exported");

    let r = app
        .client
        .put(app.url(&format!("/api/v1/admin/accommodations/{acc}")))
        .bearer_auth(&app.admin_token)
        .json(
            &json!({"name": "Nombre nuevo", "kind": "cabin", "capacity": 4, "base_price": "12000"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        export_text(&app, acc)
            .await
            .contains("X-WR-CALNAME:Nombre nuevo")
    );
}

#[tokio::test]
async fn our_own_export_coming_back_is_ignored() {
    let app = app().await;
    let acc = app.accommodation(json!({})).await;
    let other = app.accommodation(json!({"name": "Otra"})).await;
    block(&app, acc, 5, 8).await;
    let url = app.url(&export_path(&app, acc).await);
    let feed = add_feed(&app, other, &url, "other").await;
    let report = sync(&app, other, feed).await;
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["created"], 0);
    assert_eq!(feed_view(&app, other, feed).await["counts"]["ignored"], 1);
}
