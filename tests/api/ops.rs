//! Health, readiness, metrics, request ids, rate limiting, body limits, the OpenAPI document.

use crate::helpers::{TestApp, binary, body, day, metric_value, reserve_body};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn healthz_reports_every_check_and_readyz_is_ready() {
    // The build machine's free disk is not what this test is about: a nearly full disk there
    // must not turn the answer degraded.
    let app = TestApp::spawn_with(|c| {
        c.health.disk_degraded_percent = 0.0;
        c.health.disk_unhealthy_percent = 0.0;
    })
    .await;
    let r = app.get("/api/v1/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = body(r).await;
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptime_s"].is_u64());
    assert_eq!(h["checks"]["database"]["status"], "ok");
    assert!(h["checks"]["database"]["latency_ms"].is_f64());
    assert_eq!(h["checks"]["locks"]["held"], 0);
    assert_eq!(h["checks"]["scheduler"]["status"], "ok");
    assert!(h["checks"]["disk"]["free_percent"].as_f64().unwrap() > 0.0);
    let r = app.get("/api/v1/readyz").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn healthz_is_503_when_unhealthy() {
    let app = TestApp::spawn_with(|c| c.health.disk_unhealthy_percent = 100.0).await;
    let r = app.get("/api/v1/healthz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let h = body(r).await;
    assert_eq!(h["status"], "unhealthy");
    assert_eq!(h["checks"]["disk"]["status"], "unhealthy");
}

#[tokio::test]
async fn a_stale_scheduler_is_degraded_but_still_200() {
    let app = TestApp::spawn_with(|c| {
        c.jobs.expire_holds = "0 0 0 1 1 *".into();
        c.jobs.stale_after = "1s".into();
    })
    .await;
    let degraded = || async {
        let r = app.get("/api/v1/healthz").await;
        r.status() == StatusCode::OK && body(r).await["checks"]["scheduler"]["status"] == "degraded"
    };
    assert!(crate::helpers::eventually(std::time::Duration::from_secs(5), degraded).await);
    assert_eq!(
        body(app.get("/api/v1/healthz").await).await["status"],
        "degraded"
    );
}

#[tokio::test]
async fn every_response_has_request_and_trace_ids_and_echoes_the_clients_trace() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/accommodations").await;
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(rid.len() >= 16);
    assert!(r.headers().contains_key("x-trace-id"));
    let r = app
        .client
        .get(app.url("/nope"))
        .header("X-Trace-ID", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-trace-id"], "trace-abc-123");
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(r).await["error"], "not_found");
    let r = app
        .client
        .delete(app.url("/api/v1/accommodations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body(r).await["error"], "method_not_allowed");
}

/// Counters are process-wide and the other tests of this binary quote and book at the same
/// time, so the exact counts are read from a server process of its own.
#[tokio::test]
async fn metrics_count_requests_by_route_template_and_reservations_by_channel() {
    let dir = tempfile::tempdir().unwrap();
    let server = binary::start(dir.path()).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let password = server.password.clone().unwrap();
    let token = binary::login(&client, &base, "admin@alojamientos.local", &password).await;
    let id = binary::create_room(&client, &base, &token, "Solo").await;
    let metrics = || async {
        let r = client.get(format!("{base}/metrics")).send().await.unwrap();
        r.text().await.unwrap()
    };
    let route = "/api/v1/accommodations/{id}/quote";
    let text = metrics().await;
    let before_quotes = metric_value(
        &text,
        "http_requests_total",
        &[("route", route), ("status", "200")],
    );
    let before_created = metric_value(&text, "reservations_created_total", &[("channel", "web")]);
    for _ in 0..3 {
        let quote = format!(
            "{base}/api/v1/accommodations/{id}/quote?check_in={}&check_out={}",
            day(3),
            day(5)
        );
        client.get(quote).send().await.unwrap();
    }
    let held = client
        .post(format!("{base}/api/v1/reservations"))
        .json(&reserve_body(id, &day(3), &day(5)))
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), StatusCode::CREATED);
    let text = metrics().await;
    assert_eq!(
        metric_value(
            &text,
            "http_requests_total",
            &[("route", route), ("status", "200")]
        ) - before_quotes,
        3.0
    );
    assert_eq!(
        metric_value(&text, "reservations_created_total", &[("channel", "web")]) - before_created,
        1.0
    );
    assert!(text.contains("http_request_duration_seconds_bucket{"));
    assert!(text.contains("le=\"0.001\"") && text.contains("le=\"10\""));
    assert!(text.contains("store_commit_duration_seconds"));
    assert!(text.contains("reservation_lock_wait_seconds"));
    assert!(!text.contains("RES2"), "no reservation codes in labels");
    assert!(!text.contains("5491122334455"), "no phones in metrics");
    assert!(
        !text.contains(&format!("/api/v1/accommodations/{id}/")),
        "routes are templates"
    );
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = TestApp::spawn_with(|c| {
        c.metrics.token = "s3cret-metrics".into();
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("# TYPE"));
}

#[tokio::test]
async fn metrics_can_move_to_their_own_listener() {
    let app = TestApp::spawn_with(|c| c.metrics.listen = "127.0.0.1:0".into()).await;
    let addr = app.metrics_addr.expect("a metrics listener is bound");
    assert_ne!(addr, app.addr);
    assert_eq!(
        app.get("/metrics").await.status(),
        StatusCode::NOT_FOUND,
        "not on the public listener"
    );
    let r = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
    assert!(r.text().await.unwrap().contains("# TYPE"));
}

#[tokio::test]
async fn public_endpoints_are_rate_limited_but_health_is_not() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 5;
    })
    .await;
    let mut limited = None;
    for _ in 0..20 {
        let r = app.get("/api/v1/accommodations").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the limit is reached within 20 requests");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    assert_eq!(body(r).await["error"], "rate_limited");
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/healthz").await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_as_json() {
    let app = TestApp::spawn_with(|c| c.server.body_limit_bytes = 2048).await;
    let big = json!({"accommodation_id": 1, "contact_name": "x".repeat(10_000)});
    let r = app
        .admin_post("/api/v1/admin/accommodations", big.clone())
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(r).await["error"], "payload_too_large");
    let r = app.post("/api/v1/reservations", big).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(r).await["error"], "payload_too_large");
}

#[tokio::test]
async fn openapi_document_lists_the_whole_api() {
    let app = TestApp::spawn().await;
    let doc = body(app.get("/api/v1/openapi.json").await).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/accommodations",
        "/api/v1/accommodations/{id}/quote",
        "/api/v1/accommodations/{id}/availability",
        "/api/v1/reservations",
        "/api/v1/reservations/pre-reserve",
        "/api/v1/reservations/{code}",
        "/api/v1/reservations/{code}/cancel",
        "/api/v1/admin/login",
        "/api/v1/admin/reservations",
        "/api/v1/admin/reservations.csv",
        "/api/v1/admin/blocks",
        "/api/v1/admin/stats",
        "/api/v1/healthz",
        "/api/v1/readyz",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
}
