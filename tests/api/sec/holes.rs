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

/// A guest's hold request from `address` (as a trusted proxy reports it) with `key`.
async fn keyed_hold(app: &TestApp, address: &str, key: &str, b: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/reservations"))
        .header("x-forwarded-for", address)
        .header("idempotency-key", key)
        .json(b)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn idempotency_keys_are_per_client_and_the_stored_replay_has_no_token() {
    let app =
        TestApp::spawn_with(|raw| raw.server.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let acc = app.accommodation(json!({})).await;
    let hold = guest_body(acc, 20, "Ana", "ana@example.com");
    let first = body(keyed_hold(&app, "203.0.113.5", "k-1", &hold).await).await;
    let (code, token) = (first["code"].clone(), first["access_token"].clone());
    let token = token.as_str().unwrap().to_owned();
    // The same client's retry gets the same hold and the same token, recomputed.
    let again = body(keyed_hold(&app, "203.0.113.5", "k-1", &hold).await).await;
    assert_eq!(
        (&again["code"], &again["access_token"]),
        (&code, &json!(token))
    );
    // Another client with the same key and body gets a fresh run (the dates are taken), never
    // the first client's answer or token.
    let other = keyed_hold(&app, "198.51.100.7", "k-1", &hold).await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert!(!other.text().await.unwrap().contains(&token));
    // The same key with another body is refused.
    let changed = guest_body(acc, 40, "Ana", "ana@example.com");
    let reused = keyed_hold(&app, "203.0.113.5", "k-1", &changed).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(reused).await["error"], "idempotency_key_reused");
    let seen = app
        .client
        .get(app.url(&format!("/api/v1/reservations/{}", code.as_str().unwrap())))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), StatusCode::OK);
    // Nowhere in the store file is the token written.
    let dir = app.stop().await;
    let file = std::fs::read(dir.path().join(alojamientos::store::STORE_FILE)).unwrap();
    assert!(
        !file.windows(token.len()).any(|w| w == token.as_bytes()),
        "the plaintext token is stored"
    );
}

#[tokio::test]
async fn feeds_from_inside_addresses_are_refused_and_capped_per_accommodation() {
    use crate::helpers::fake_feeds::FakeFeeds;
    // Private addresses refused (the default): only loopback traffic in this test.
    let feeds = FakeFeeds::start().await;
    let app = TestApp::spawn_with(|raw| {
        raw.ical.allow_private_addresses = false;
        raw.ical.max_feeds_per_accommodation = 2;
    })
    .await;
    let acc = app.accommodation(json!({})).await;
    let path = format!("/api/v1/admin/accommodations/{acc}/feeds");
    for literal in [
        "http://127.0.0.1:9/cal.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/cal.ics",
        "https://10.0.0.5/cal.ics",
    ] {
        let r = app
            .admin_post(&path, json!({"url": literal, "source": "airbnb"}))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{literal}");
    }
    // A name that resolves to loopback passes the form but is refused when fetched, and the
    // fake server never hears from us.
    let by_name = feeds.url("/named.ics").replace("127.0.0.1", "localhost");
    let r = app
        .admin_post(&path, json!({"url": by_name, "source": "airbnb"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let feed = body(r).await["id"].as_u64().unwrap();
    let synced = app
        .admin_post(&format!("{path}/{feed}/sync"), json!({}))
        .await;
    let report = body(synced).await;
    let listed = body(app.admin_get(&path).await).await;
    let last_error = listed[0]["last_error"].clone();
    assert_eq!(last_error, "forbidden_address", "{report} {listed}");
    assert!(
        feeds.requests("/named.ics").is_empty(),
        "nothing reached the loopback server"
    );
    // At most two feeds per accommodation here (disabled: never fetched, no traffic).
    let second = app
        .admin_post(&path, json!({"url": "https://calendar.example.com/b.ics", "source": "booking", "enabled": false}))
        .await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let third = app
        .admin_post(&path, json!({"url": "https://calendar.example.com/c.ics", "source": "vrbo", "enabled": false}))
        .await;
    assert_eq!(third.status(), StatusCode::CONFLICT);
    assert_eq!(body(third).await["error"], "too_many_feeds");
}

#[tokio::test]
async fn metrics_without_a_token_answer_only_this_machine() {
    let main = TestApp::spawn_with(|raw| {
        raw.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let own = TestApp::spawn_with(|raw| {
        raw.server.trusted_proxies = vec!["127.0.0.1".into()];
        raw.metrics.listen = "127.0.0.1:0".into();
    })
    .await;
    let get = |app: &TestApp, url: String, forwarded: Option<&'static str>| {
        let mut req = app.client.get(url);
        if let Some(client) = forwarded {
            req = req.header("x-forwarded-for", client);
        }
        req.send()
    };
    let on_own = format!("http://{}/metrics", own.metrics_addr.unwrap());
    for (app, url) in [(&main, main.url("/metrics")), (&own, on_own)] {
        assert_eq!(
            get(app, url.clone(), None).await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(
            get(app, url.clone(), Some("::1")).await.unwrap().status(),
            StatusCode::OK
        );
        let outside = get(app, url, Some("203.0.113.50")).await.unwrap();
        assert_eq!(outside.status(), StatusCode::FORBIDDEN);
        assert_eq!(body(outside).await["error"], "metrics_forbidden");
    }
    // With a token, any client that has it.
    let app = TestApp::spawn_with(|raw| {
        raw.server.trusted_proxies = vec!["127.0.0.1".into()];
        raw.metrics.token = "scrape-token-123".into();
    })
    .await;
    let r = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.50")
        .bearer_auth("scrape-token-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn outside_systemd_the_data_directory_is_0700_and_the_store_and_snapshots_0600() {
    use crate::helpers::binary::{login, start};
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("fresh/data");
    let mut server = start(&data).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(alojamientos::store::STORE_FILE)), 0o600);
    let client = reqwest::Client::new();
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, "admin@alojamientos.local", &password).await;
    let r = client
        .post(format!("{}/api/v1/admin/backups", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let backups = data.join("backups");
    assert_eq!(mode(&backups), 0o700);
    let snapshots: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "redb"))
        .collect();
    assert!(!snapshots.is_empty());
    for s in snapshots {
        assert_eq!(mode(&s), 0o600, "{}", s.display());
    }
    server.child.kill().await.unwrap();
}

#[tokio::test]
async fn the_rate_limiter_counts_an_ipv6_slash_64_as_one_client() {
    let app = TestApp::spawn_with(|raw| {
        raw.server.trusted_proxies = vec!["127.0.0.1".into()];
        raw.rate_limit.enabled = true;
        raw.rate_limit.per_second = 1;
        raw.rate_limit.burst = 2;
    })
    .await;
    let from = |client: &'static str| {
        app.client
            .get(app.url("/api/v1/accommodations"))
            .header("x-forwarded-for", client)
            .send()
    };
    assert_eq!(
        from("2001:db8:7:1::1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        from("2001:db8:7:1::2").await.unwrap().status(),
        StatusCode::OK
    );
    let third = from("2001:db8:7:1:abcd::3").await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS, "same /64");
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(
        from("2001:db8:7:2::1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(from("203.0.113.9").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn links_shown_to_the_host_come_from_configuration_never_the_host_header() {
    for base in [None, Some("https://reservas.example.com.ar")] {
        let app = TestApp::spawn_with(|raw| {
            raw.server.trusted_proxies = vec!["127.0.0.1".into()];
            if let Some(base) = base {
                raw.server.public_base_url = base.into();
            }
        })
        .await;
        let acc = app.accommodation(json!({})).await;
        let expected = base.map_or_else(|| format!("http://{}/", app.addr), |b| format!("{b}/"));
        for path in ["ical", "ical/rotate"] {
            let url = app.url(&format!("/api/v1/admin/accommodations/{acc}/{path}"));
            let req = if path == "ical" {
                app.client.get(url)
            } else {
                app.client.post(url)
            };
            let r = req
                .bearer_auth(&app.admin_token)
                .header("host", "evil.example")
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-proto", "https")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let url = body(r).await["export_url"].as_str().unwrap().to_owned();
            assert!(url.starts_with(&expected), "{url} from {expected}");
            assert!(!url.contains("evil"), "{url}");
        }
    }
}
