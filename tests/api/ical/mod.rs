//! iCal export and import over real HTTP: the real app on 127.0.0.1:0 with a real store, and a
//! scripted OTA calendar server on 127.0.0.1.

use std::time::Duration;

use crate::helpers::fake_feeds::{FakeFeeds, Reply};
use crate::helpers::{TestApp, body, day, eventually};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde_json::{Value, json};

mod export;
mod import;
mod schedule;

const UID_DOMAIN: &str = "test.alojamientos.example";
/// A schedule that does not fire during a test: these tests sync by hand.
const NEVER: &str = "0 0 0 1 1 *";

async fn app_with(schedule: &str) -> TestApp {
    let schedule = schedule.to_owned();
    TestApp::spawn_with(move |r| {
        // Short enough for the hanging-feed case, long enough that a fetch from the local fake
        // server never times out on a loaded two-core machine (1s did, once).
        r.ical.timeout = "3s".into();
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

/// The feed as the admin list shows it.
pub(crate) async fn feed_view(app: &TestApp, acc: u64, feed: u64) -> Value {
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
