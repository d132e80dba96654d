//! iCal feeds as they arrive in the wild (fixtures `proxy-junk.ics` and `mixed-endings.ics`):
//! every syntactically valid VEVENT is read whatever surrounds it, over real HTTP its dates are
//! blocked, broken events are skipped and counted, and the snapshot rules hold (a clean feed
//! with junk around it releases a vanished stay; a feed with a broken event releases nothing).

use crate::helpers::fake_feeds::{FakeFeeds, Reply};
use crate::helpers::{TestApp, body, day};
use alojamientos::domain::ical::feed::{FeedRules, parse};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A fixture's bytes as stored (line endings untouched) with `{{+N}}` replaced by the date N
/// days from today (`yyyymmdd`).
fn fixture(name: &str) -> Vec<u8> {
    let raw = std::fs::read(format!(
        "{}/tests/fixtures/ical/{name}.ics",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{+") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let days: i64 = rest[start + 3..end].parse().unwrap();
        out.push_str(&day(days).replace('-', ""));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out.into_bytes()
}

fn rules() -> FeedRules {
    FeedRules {
        tz: jiff::tz::db()
            .get("America/Argentina/Buenos_Aires")
            .unwrap(),
        checkout_is_dtend: true,
        own_uid_domain: "test.alojamientos.example".into(),
    }
}

fn uids(name: &str) -> (Vec<String>, u32) {
    let parsed = parse(&fixture(name), &rules()).unwrap();
    let mut uids: Vec<String> = parsed.events.iter().map(|e| e.uid.clone()).collect();
    uids.sort();
    (uids, parsed.broken)
}

#[test]
fn every_valid_event_is_read_whatever_surrounds_it() {
    let (found, broken) = uids("proxy-junk");
    assert_eq!(
        found,
        [
            "1418fb94e984-5bd5d3c1a2b4b7ec2ff4b2a2e34f52b4@airbnb.com",
            "7f3bd8a1c0e2-1c2a2e1b5b2d8c0e8a4a4f0b5d6a7e1c@airbnb.com",
            "9c2d4e6f8a0b-2e1f3a4b5c6d7e8f9a0b1c2d3e4f5a6b@airbnb.com",
            "d41d8cd98f00-b204e9800998ecf8427e00000000aaaa@airbnb.com",
        ]
    );
    assert_eq!(broken, 0, "junk around events is not a broken event");

    let (found, broken) = uids("mixed-endings");
    assert_eq!(
        found,
        [
            "booking-1001@booking.com",
            "booking-1003@booking.com",
            "booking-1004@booking.com"
        ]
    );
    assert_eq!(broken, 1, "the event with an impossible date");
}

#[test]
fn each_fixture_reads_the_same_with_every_line_ending() {
    for name in ["proxy-junk", "mixed-endings", "airbnb", "booking", "vrbo"] {
        let bytes = fixture(name);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lf = text.replace("\r\n", "\n").replace('\r', "\n");
        let expected = parse(lf.as_bytes(), &rules()).unwrap();
        for variant in [lf.replace('\n', "\r\n"), lf.replace('\n', "\r"), text] {
            assert_eq!(
                parse(variant.as_bytes(), &rules()).unwrap(),
                expected,
                "{name}"
            );
        }
    }
}

#[test]
fn junk_after_the_end_is_not_truncation_but_content_is() {
    let mut bytes = fixture("airbnb");
    bytes.extend_from_slice(b"\r\n<!-- 12 ms -->\r\nplain words\r\n");
    let parsed = parse(&bytes, &rules()).unwrap();
    assert_eq!(parsed.events.len(), 4);
    let mut cut = fixture("airbnb");
    cut.extend_from_slice(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n");
    assert!(
        parse(&cut, &rules()).is_err(),
        "a second calendar cut short"
    );
}

async fn app() -> TestApp {
    TestApp::spawn_with(|r| {
        r.ical.timeout = "2s".into();
        r.ical.check_schedule = "0 0 0 1 1 *".into();
    })
    .await
}

async fn add_feed(app: &TestApp, acc: u64, url: &str) -> u64 {
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds"),
            json!({"url": url, "source": "airbnb"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["id"].as_u64().unwrap()
}

async fn sync(app: &TestApp, acc: u64, feed: u64) -> Value {
    let r = app
        .admin_post(
            &format!("/api/v1/admin/accommodations/{acc}/feeds/{feed}/sync"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    crate::ical::feed_view(app, acc, feed).await
}

async fn is_taken(app: &TestApp, acc: u64, from: i64, to: i64) -> bool {
    let r = app.reserve(acc, &day(from), &day(to)).await;
    match r.status() {
        StatusCode::CONFLICT => true,
        StatusCode::CREATED => {
            let code = body(r).await["code"].as_str().unwrap().to_owned();
            let r = app
                .act(&code, "cancel", json!({"reason": "test probe"}))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            false
        }
        other => panic!("reserve answered {other}"),
    }
}

#[tokio::test]
async fn a_junk_surrounded_feed_blocks_every_event_and_still_releases_when_clean() {
    let app = app().await;
    let feeds = FakeFeeds::start().await;
    let acc = app.accommodation(json!({})).await;
    let feed = add_feed(&app, acc, &feeds.url("/junk.ics")).await;
    feeds.set(
        "/junk.ics",
        Reply::Calendar {
            body: fixture("proxy-junk"),
            etag: None,
        },
    );
    let view = sync(&app, acc, feed).await;
    assert_eq!(view["last_error"], Value::Null, "{view}");
    assert_eq!(view["counts"]["events"], 4, "{view}");
    assert_eq!(view["counts"]["broken"], 0, "{view}");
    for (from, to) in [(10, 13), (20, 24), (40, 45), (50, 53)] {
        assert!(is_taken(&app, acc, from, to).await, "+{from}..+{to} free");
    }

    // The same junk, one stay gone: a clean complete fetch releases it.
    let text = String::from_utf8(fixture("proxy-junk")).unwrap();
    let without_last = without(&text, "d41d8cd98f00");
    feeds.set(
        "/junk.ics",
        Reply::Calendar {
            body: without_last.clone().into_bytes(),
            etag: None,
        },
    );
    let view = sync(&app, acc, feed).await;
    assert_eq!(view["counts"]["events"], 3, "{view}");
    assert!(!is_taken(&app, acc, 50, 53).await, "released");
    assert!(is_taken(&app, acc, 10, 13).await);

    // A feed with a broken event releases nothing, whatever else it lacks.
    let broken = without(&without_last, "1418fb94e984").replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:broken@airbnb.com\r\nDTSTART;VALUE=DATE:bad\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    feeds.set(
        "/junk.ics",
        Reply::Calendar {
            body: broken.into_bytes(),
            etag: None,
        },
    );
    let view = sync(&app, acc, feed).await;
    assert_eq!(view["counts"]["broken"], 1, "{view}");
    assert!(
        is_taken(&app, acc, 10, 13).await,
        "a broken feed is not a disappearance"
    );
}

/// `text` without the VEVENT whose UID starts with `uid`.
fn without(text: &str, uid: &str) -> String {
    let at = text.find(&format!("UID:{uid}")).unwrap();
    let start = text[..at].rfind("BEGIN:VEVENT").unwrap();
    let end = at + text[at..].find("END:VEVENT").unwrap();
    let end = end + text[end..].find('\n').unwrap() + 1;
    format!("{}{}", &text[..start], &text[end..])
}
