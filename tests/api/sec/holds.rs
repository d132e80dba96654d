//! Inventory flooding: the attack (seven 60-night holds from one phone and one
//! address emptied a year) against the shipped limits, client rotation within an IPv6 /64,
//! the host's exemption, the host's view of live holds and its one-action cancel.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{hold_from, hold_limits_on, with_hold_limits};
use crate::helpers::{TestApp, body, day};

fn stay(acc: u64, from: i64, nights: i64, phone: &str) -> Value {
    json!({"accommodation_id": acc, "check_in": day(from), "check_out": day(from + nights),
        "guests": 2, "contact_name": "Mal Actor", "contact_phone": phone})
}

/// Free nights of `acc` over the next 365 days.
async fn free_nights(app: &TestApp, acc: u64) -> usize {
    let r = app
        .get(&format!(
            "/api/v1/accommodations/{acc}/availability?from={}&to={}",
            day(0),
            day(365)
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["available"] == true)
        .count()
}

#[tokio::test]
async fn the_seven_sixty_night_attack_leaves_the_calendar_bookable() {
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    let attacker = "203.0.113.66";
    let phone = "+54 9 11 6666-0000";
    // The attack of the issue: seven back-to-back 60-night holds.
    for i in 0..7 {
        let r = hold_from(&app, attacker, &stay(acc, 1 + 60 * i, 60, phone)).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(body(r).await["error"], "hold_too_long");
    }
    // Adapted to the 21-night cap: back-to-back 21-night holds, same phone and address.
    let mut statuses = Vec::new();
    for i in 0..17 {
        let r = hold_from(&app, attacker, &stay(acc, 1 + 21 * i, 21, phone)).await;
        let status = r.status();
        let retry_after = r.headers().get("retry-after").cloned();
        let code = body(r).await["error"].as_str().unwrap_or("").to_owned();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
            assert!(
                (1..=1800).contains(&wait),
                "until the first hold lapses: {wait}"
            );
        }
        statuses.push((status.as_u16(), code));
    }
    assert_eq!((statuses[0].0, statuses[1].0), (201, 201));
    assert!(
        statuses[2..]
            .iter()
            .all(|s| *s == (429, "too_many_holds".to_owned())),
        "two live holds per phone: {statuses:?}"
    );
    let free = free_nights(&app, acc).await;
    assert_eq!(free, 365 - 42, "only two 21-night holds stand");
    // A real guest from elsewhere books right after them.
    let guest = json!({"accommodation_id": acc, "check_in": day(43), "check_out": day(46),
        "guests": 2, "contact_name": "Ana", "contact_phone": "+54 9 11 2233-4455"});
    let r = hold_from(&app, "198.51.100.20", &guest).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", body(r).await);
    assert!(
        app.metric(
            "reservations_hold_limited_total",
            &[("channel", "web"), ("reason", "too_long")]
        )
        .await
            >= 7.0
    );
    assert!(
        app.metric(
            "reservations_hold_limited_total",
            &[("reason", "per_phone")]
        )
        .await
            >= 15.0
    );
}

#[tokio::test]
async fn rotating_phones_within_one_ipv6_slash_64_counts_as_one_client() {
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    let mut created = 0;
    let mut last = None;
    for i in 0..8 {
        let address = format!("2001:db8:aa:bb:{i:x}::{}", i + 1);
        let phone = format!("+54 9 11 5555-00{i:02}");
        let r = hold_from(&app, &address, &stay(acc, 2 + 3 * i, 2, &phone)).await;
        match r.status() {
            StatusCode::CREATED => created += 1,
            other => last = Some((other, body(r).await["error"].clone())),
        }
    }
    assert_eq!(created, 4, "holds.per_address = 4 for the whole /64");
    assert_eq!(
        last,
        Some((StatusCode::TOO_MANY_REQUESTS, json!("too_many_holds")))
    );
    // Another /64 of the same /48 is another client.
    let r = hold_from(
        &app,
        "2001:db8:aa:bc::1",
        &stay(acc, 40, 2, "+54 9 11 5555-0100"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // A retry of a refused request with its Idempotency-Key runs again (the refusal is not
    // remembered), and is refused again while the holds stand.
    let again = app
        .client
        .post(app.url("/api/v1/reservations"))
        .header("x-forwarded-for", "2001:db8:aa:bb::9")
        .header("idempotency-key", "retry-me")
        .json(&stay(acc, 60, 2, "+54 9 11 5555-0999"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_host_sees_live_holds_by_client_cancels_them_at_once_and_is_never_limited() {
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    let phone = "+54 9 11 7777-0000";
    for (i, address) in ["203.0.113.7", "203.0.113.8"].iter().enumerate() {
        let r = hold_from(&app, address, &stay(acc, 5 + 5 * i as i64, 3, phone)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let listed = body(app.admin_get("/api/v1/admin/holds").await).await;
    let clients = listed["clients"].as_array().unwrap();
    assert_eq!(clients[0]["kind"], "phone");
    assert_eq!(clients[0]["client"], "+5491177770000");
    assert_eq!(clients[0]["count"], 2);
    assert!(
        clients
            .iter()
            .any(|c| c["kind"] == "address" && c["client"] == "203.0.113.8" && c["count"] == 1)
    );
    assert_eq!(listed["limits"]["per_phone"], 2);
    // The host's own bookings and holds are not limited: 60 nights for the same phone.
    let manual = app
        .admin_post("/api/v1/admin/reservations", stay(acc, 100, 60, phone))
        .await;
    assert_eq!(manual.status(), StatusCode::CREATED);
    let cancelled = app
        .admin_post(
            "/api/v1/admin/holds/cancel",
            json!({"phone": "+5491177770000"}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled = body(cancelled).await;
    assert_eq!(cancelled["cancelled"].as_array().unwrap().len(), 2);
    assert_eq!(cancelled["cancelled"][0]["status"], "cancelled");
    let after = body(app.admin_get("/api/v1/admin/holds").await).await;
    assert_eq!(
        after["clients"],
        json!([]),
        "the host's hold is not a guest's"
    );
    // The phone may hold again.
    let r = hold_from(&app, "203.0.113.7", &stay(acc, 20, 3, phone)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let bad = app
        .admin_post(
            "/api/v1/admin/holds/cancel",
            json!({"phone": "+5491177770000", "address": "203.0.113.7"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn with_the_limits_off_the_host_still_sees_and_cancels_holds_by_client() {
    // No limit reads the in-memory lists then: the host's view comes from the holds' records.
    let app = with_hold_limits(|raw| {
        let h = &mut raw.holds;
        (
            h.per_phone,
            h.per_address,
            h.max_nights,
            h.max_share_percent,
        ) = (0, 0, 0, 100);
    })
    .await;
    let acc = app.accommodation(json!({})).await;
    let phone = "+54 9 11 7777-0001";
    for (i, address) in ["203.0.113.7", "203.0.113.8", "203.0.113.8"]
        .iter()
        .enumerate()
    {
        let r = hold_from(&app, address, &stay(acc, 5 + 5 * i as i64, 3, phone)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let listed = body(app.admin_get("/api/v1/admin/holds").await).await;
    let clients = listed["clients"].as_array().unwrap();
    assert_eq!(clients[0]["kind"], "phone");
    assert_eq!(clients[0]["count"], 3);
    assert!(
        clients
            .iter()
            .any(|c| c["kind"] == "address" && c["client"] == "203.0.113.8" && c["count"] == 2)
    );
    let cancelled = app
        .admin_post(
            "/api/v1/admin/holds/cancel",
            json!({"address": "203.0.113.8"}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        body(cancelled).await["cancelled"].as_array().unwrap().len(),
        2
    );
    let after = body(app.admin_get("/api/v1/admin/holds").await).await;
    assert_eq!(after["clients"][0]["count"], 1, "{after}");
}

#[tokio::test]
async fn a_flood_from_many_phones_and_networks_stops_at_the_accommodations_share() {
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    let mut held = 0;
    let mut refused = None;
    for i in 0..12 {
        let address = format!("198.18.{i}.1");
        let phone = format!("+54 9 11 4444-{i:04}");
        let r = hold_from(&app, &address, &stay(acc, 1 + 21 * i, 21, &phone)).await;
        match r.status() {
            StatusCode::CREATED => held += 21,
            _ => {
                refused = Some(body(r).await["error"].clone());
                break;
            }
        }
    }
    assert_eq!(refused, Some(json!("too_many_held_nights")));
    assert!(held <= 365 * 30 / 100, "{held} nights held");
    assert!(free_nights(&app, acc).await >= 365 - 365 * 30 / 100);
    // The host still books the rest, and so do Airbnb and Booking.com (their stays are
    // imported, not holds).
    let manual = app
        .admin_post(
            "/api/v1/admin/reservations",
            stay(acc, 200, 5, "+54 9 11 2233-4455"),
        )
        .await;
    assert_eq!(manual.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_guest_site_gets_the_same_limits_in_spanish() {
    use crate::site::{book, no_redirects, slug};
    let app = with_hold_limits(|raw| raw.holds.per_phone = 1).await;
    let acc = app.accommodation(json!({})).await;
    let slug = slug(&app, acc).await;
    let client = no_redirects();
    let first = book(&app, &client, &slug, (&day(10), &day(12)), "Caro Díaz").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let second = book(&app, &client, &slug, (&day(20), &day(22)), "Caro Díaz").await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = second.text().await.unwrap();
    assert!(
        page.contains("máximo de reservas pendientes de pago"),
        "{page}"
    );
    let long = book(&app, &client, &slug, (&day(30), &day(60)), "Otra Persona").await;
    assert_eq!(long.status(), StatusCode::CONFLICT, "over holds.max_nights");
}

#[tokio::test]
async fn live_holds_still_count_after_a_restart_and_the_host_still_sees_them() {
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    let phone = "+54 9 11 8888-0000";
    for i in 0..2 {
        let r = hold_from(&app, "203.0.113.30", &stay(acc, 5 + 5 * i, 3, phone)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // The index of live holds is in memory: the store's next open rebuilds it.
    let app = app.restart(|_| {}, hold_limits_on).await;
    let r = hold_from(&app, "198.51.100.30", &stay(acc, 30, 3, phone)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body(r).await["error"], "too_many_holds");
    let listed = body(app.admin_get("/api/v1/admin/holds").await).await;
    let counts: Vec<_> = listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["client"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("203.0.113.30", 2), ("+5491188880000", 2)]);
}
