//! The smaller holes of issue 14, each over real HTTP: CSV cells, idempotency keys and guest
//! tokens, guests' channels, Mercado Pago's legacy notifications, links from configuration,
//! `/metrics` exposure, file modes, the rate limiter's keys.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, day};

/// A guest's hold with these contact details, through the public API.
fn guest_body(acc: u64, from: i64, name: &str, email: &str) -> Value {
    json!({"accommodation_id": acc, "check_in": day(from), "check_out": day(from + 2),
        "guests": 2, "contact_name": name, "contact_phone": "+54 9 11 2233-4455",
        "contact_email": email})
}

#[tokio::test]
async fn csv_cells_never_start_a_formula_on_comma_or_semicolon_spreadsheets() {
    let app = TestApp::spawn().await;
    let acc = app.accommodation(json!({})).await;
    for (i, (name, email)) in [
        ("x;=cmd|' /C calc'!A0;", "a;=1+2;@x.com"),
        ("+1+1,@SUM(1)", "b@example.com"),
        ("-2-3;-x", "c@example.com"),
        ("Ana \"la del lago\", Pérez", "ana@example.com"),
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .post(
                "/api/v1/reservations",
                guest_body(acc, 10 + 3 * i as i64, name, email),
            )
            .await;
        // An email that is not one is refused; the name still lands in the file.
        if r.status() != StatusCode::CREATED {
            let r = app
                .post(
                    "/api/v1/reservations",
                    guest_body(acc, 10 + 3 * i as i64, name, "d@example.com"),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    }
    let r = app.admin_get("/api/v1/admin/reservations.csv").await;
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.contains("\r\n"));
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with('"') && line.ends_with('"'),
            "every field quoted: {line}"
        );
        for cell in line.split([',', ';']) {
            let value = cell.trim_start_matches('"');
            assert!(
                !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell starts a formula: {cell:?} in {line}"
            );
        }
    }
    // The csv crate's own reader gets the values back, defused with an apostrophe only.
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[7].to_owned()).collect();
    assert!(
        names.contains(&"x;'=cmd|' /C calc'!A0;".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"Ana \"la del lago\", Pérez".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn guests_cannot_choose_their_channel() {
    let app = TestApp::spawn().await;
    let acc = app.accommodation(json!({})).await;
    let with = |from: i64, channel: &str| {
        let mut b = guest_body(acc, from, "Ana", "ana@example.com");
        b["channel"] = json!(channel);
        b
    };
    for (i, channel) in ["admin", "whatsapp", "phone", "other"].iter().enumerate() {
        let r = app
            .post("/api/v1/reservations", with(10 + 3 * i as i64, channel))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{channel}");
        assert_eq!(body(r).await["error"], "validation");
    }
    let web = app.post("/api/v1/reservations", with(30, "web")).await;
    assert_eq!(web.status(), StatusCode::CREATED);
    assert_eq!(body(web).await["channel"], "web");
    let bot = app
        .admin_post("/api/v1/admin/reservations", with(40, "whatsapp"))
        .await;
    assert_eq!(
        bot.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the bot's alone"
    );
    let phone = app
        .admin_post("/api/v1/admin/reservations", with(50, "phone"))
        .await;
    assert_eq!(phone.status(), StatusCode::CREATED);
    assert_eq!(body(phone).await["channel"], "phone");
}
