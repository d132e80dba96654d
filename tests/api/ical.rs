//! iCal export and import over real HTTP: the real app on 127.0.0.1:0 with a real store, and a
//! scripted OTA calendar server on 127.0.0.1.

use std::time::Duration;

use crate::helpers::fake_feeds::{FakeFeeds, Reply};
use crate::helpers::{TestApp, body, day, eventually};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde_json::{Value, json};

const UID_DOMAIN: &str = "test.alojamientos.example";
/// A schedule that does not fire during a test: these tests sync by hand.
const NEVER: &str = "0 0 0 1 1 *";

async fn app_with(schedule: &str) -> TestApp {
    let schedule = schedule.to_owned();
    TestApp::spawn_with(move |r| {
        r.ical.timeout = "1s".into();
        r.ical.max_body_bytes = 64 * 1024;
        r.ical.check_schedule = schedule;
        r.ical.uid_domain = UID_DOMAIN.into();
    })
    .await
}

async fn app() -> TestApp {
    app_with(NEVER).await
}

/// A fixture with `{{+N}}` replaced by the date N days from today (`yyyymmdd`), with CRLF line
/// ends unless it is the LF-only one.
fn fixture(name: &str) -> String {
    let raw = std::fs::read_to_string(format!(
        "{}/tests/fixtures/ical/{name}.ics",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let text = with_dates(&raw);
    if name == "vrbo" {
        text
    } else {
        text.replace('\n', "\r\n")
    }
}

fn with_dates(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{+") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let days: i64 = rest[start + 3..end].parse().unwrap();
        out.push_str(&ymd(days));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn ymd(days: i64) -> String {
    day(days).replace('-', "")
}

fn event(uid: &str, from: i64, to: i64, summary: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n",
        ymd(from),
        ymd(to)
    )
}

fn calendar(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{}END:VCALENDAR\r\n",
        events.concat()
    )
}

async fn add_feed(app: &TestApp, acc: u64, url: &str, source: &str) -> u64 {
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds"),
            json!({"url": url, "source": source}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["id"].as_u64().unwrap()
}

async fn sync_with(app: &TestApp, acc: u64, feed: u64, query: &str) -> Value {
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds/{feed}/sync{query}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await
}

async fn sync(app: &TestApp, acc: u64, feed: u64) -> Value {
    sync_with(app, acc, feed, "").await
}

async fn feed_view(app: &TestApp, acc: u64, feed: u64) -> Value {
    let r = app
        .admin_get(&format!("/api/v1/admin/accommodations/{acc}/feeds"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == feed)
        .cloned()
        .unwrap()
}

/// Imported stays of `acc` as (check_in, check_out, kind), sorted.
async fn imported(app: &TestApp, acc: u64) -> Vec<(String, String, String)> {
    let r = app
        .admin_get(&format!(
            "/api/v1/admin/ical/imported?accommodation_id={acc}"
        ))
        .await;
    let mut stays: Vec<_> = body(r)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["check_in"].as_str().unwrap().to_owned(),
                s["check_out"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    stays.sort();
    stays
}

fn stay(from: i64, to: i64, kind: &str) -> (String, String, String) {
    (day(from), day(to), kind.to_owned())
}

async fn export_path(app: &TestApp, acc: u64) -> String {
    let r = app
        .admin_get(&format!("/api/v1/admin/accommodations/{acc}/ical"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await["export_path"].as_str().unwrap().to_owned()
}

async fn export_text(app: &TestApp, acc: u64) -> String {
    let r = app.get(&export_path(app, acc).await).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

async fn block(app: &TestApp, acc: u64, from: i64, to: i64) {
    let r = app
        .admin_post(
            "/api/v1/admin/blocks",
            json!({"accommodation_id": acc, "check_in": day(from), "check_out": day(to), "reason": "Pintura"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn hold(app: &TestApp, acc: u64, from: i64, to: i64) -> String {
    let r = app.reserve(acc, &day(from), &day(to)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["code"].as_str().unwrap().to_owned()
}

/// RFC 5545 TEXT unescaping (the `ical` crate hands values back as written).
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Events of an export as read by the independent `ical` crate: (UID, DTSTART, DTEND, SUMMARY).
fn parse_independently(text: &str) -> (String, Vec<[String; 4]>) {
    let mut parser = ical::IcalParser::new(text.as_bytes());
    let cal = parser.next().expect("one calendar").expect("parses");
    assert!(parser.next().is_none());
    let prop = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let name = unescape(&prop(&cal.properties, "X-WR-CALNAME"));
    let events = cal
        .events
        .iter()
        .map(|e| {
            [
                prop(&e.properties, "UID"),
                prop(&e.properties, "DTSTART"),
                prop(&e.properties, "DTEND"),
                prop(&e.properties, "SUMMARY"),
            ]
        })
        .collect();
    (name, events)
}

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
