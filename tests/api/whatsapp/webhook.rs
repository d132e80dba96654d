//! The Graph API's side: the verification handshake, signed events, redeliveries, outages
//! and delivery statuses, and the outbox across a crash.

use super::*;

#[tokio::test]
async fn the_verification_handshake_answers_the_raw_challenge() {
    let (_graph, app) = setup(|_| {}).await;
    let ok = app
        .get(&format!(
            "{HOOK}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"
        ))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "hub.challenge=1",
    ] {
        let r = app.get(&format!("{HOOK}?{query}")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{query}");
    }
}

#[tokio::test]
async fn events_need_a_valid_signature() {
    let (graph, app) = setup(|_| {}).await;
    let p = payload(vec![text("wamid.sig1", "5491122334455", "hola")], vec![]);
    let missing = app
        .client
        .post(app.url(HOOK))
        .json(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(missing).await["error"], "invalid_signature");
    let wrong = app
        .client
        .post(app.url(HOOK))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .json(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.metric("webhook_signature_invalid_total", &[("source", "whatsapp")])
            .await,
        2.0
    );
    let ok = post_signed(&app, &p).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body(ok).await["status"], "accepted");
    let greeting = wait_replies(&graph, "5491122334455", 1).await;
    assert!(shown(&greeting).contains("Hola Ana"), "{greeting}");
    let garbage = app
        .client
        .post(app.url(HOOK))
        .header(
            "x-hub-signature-256",
            format!(
                "sha256={}",
                hmac_sha256_hex(SECRET.as_bytes(), b"{not json")
            ),
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_redelivered_message_gets_one_reply_and_every_message_of_a_payload_is_read() {
    let (graph, app) = setup(|_| {}).await;
    let p = payload(vec![text("wamid.dup", "5491122334455", "hola")], vec![]);
    assert_eq!(body(post_signed(&app, &p).await).await["new_messages"], 1);
    assert_eq!(body(post_signed(&app, &p).await).await["new_messages"], 0);
    // Two entries, the second with two changes: three guests, three replies.
    let multi = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "A", "changes": [{"field": "messages", "value": {"messages": [text("wamid.m1", "5491100000001", "hola")]}}]},
        {"id": "B", "changes": [
            {"field": "messages", "value": {"messages": [text("wamid.m2", "5491100000002", "hola"), text("wamid.m3", "5491100000003", "hola")]}},
            {"field": "messages", "value": {"messages": [text("wamid.m4", "5491100000004", "hola")]}}]}]});
    assert_eq!(
        body(post_signed(&app, &multi).await).await["new_messages"],
        4
    );
    for phone in [
        "5491100000001",
        "5491100000002",
        "5491100000003",
        "5491100000004",
    ] {
        wait_replies(&graph, phone, 1).await;
    }
    assert_eq!(
        graph.sent_to("5491122334455").len(),
        1,
        "the retry got no second reply"
    );
    // Metrics are shared by the tests of this process: at least this test's six.
    assert!(
        app.metric("whatsapp_messages_received_total", &[("type", "text")])
            .await
            >= 6.0
    );
}

#[tokio::test]
async fn graph_outages_are_retried_and_statuses_update_the_outbox() {
    let (graph, app) = setup(|_| {}).await;
    graph.fail(&[500, 429, 503]);
    let guest = "5491122334400";
    say(&app, &graph, "wamid.r1", guest, "hola", 1).await;
    assert_eq!(graph.attempts(), 4);
    assert!(
        app.metric("outbox_delivery_failures_total", &[("channel", "whatsapp")])
            .await
            >= 3.0
    );
    assert!(
        app.metric(
            "whatsapp_messages_sent_total",
            &[("kind", "text"), ("result", "retry")]
        )
        .await
            >= 3.0
    );
    let status =
        json!({"id": "wamid.TEST1", "status": "read", "timestamp": "1", "recipient_id": guest});
    post_signed(&app, &payload(vec![], vec![status])).await;
    let health = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(
        health["checks"]["whatsapp"]["status"], "configured",
        "{health}"
    );
    assert_eq!(health["checks"]["outbox"]["pending"], 0, "{health}");
    let outbox = body(app.admin_get("/api/v1/admin/whatsapp/outbox").await).await;
    let m = &outbox["messages"][0];
    assert_eq!(m["status"], "read", "{outbox}");
    assert_eq!(m["attempts"], 4);
}

#[tokio::test]
async fn a_message_queued_during_an_outage_is_sent_once_after_a_crash() {
    let graph = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server = |graph: &FakeGraph| {
        let settings = [
            ("API_BASE_URL", graph.url()),
            ("API_VERSION", fake_graph::VERSION.into()),
            ("PHONE_NUMBER_ID", PHONE_ID.into()),
            ("ACCESS_TOKEN", fake_graph::TOKEN.into()),
            ("APP_SECRET", SECRET.into()),
            ("OUTBOX_SWEEP", "50ms".into()),
            ("RETRY_BASE", "10ms".into()),
            ("RETRY_CAP", "50ms".into()),
        ];
        start_with(command_with(dir.path(), "WHATSAPP", &settings))
    };
    let client = reqwest::Client::new();
    graph.fail(&[500; 10_000]);
    let mut first = server(&graph).await;
    let guest = "5491122334411";
    let r = post_event(
        &client,
        &first.base,
        &payload(vec![text("wamid.x1", guest, "hola")], vec![]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(eventually(WAIT, || async { graph.attempts() >= 2 }).await);
    let health = first.health(&client).await;
    assert_eq!(
        health["checks"]["whatsapp"]["status"], "failing",
        "{health}"
    );
    assert_eq!(health["checks"]["outbox"]["pending"], 1, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    first.crash().await;
    graph.clear_faults();
    let second = server(&graph).await;
    wait_replies(&graph, guest, 1).await;
    // Meta retries the same delivery after the crash: still one reply.
    post_event(
        &client,
        &second.base,
        &payload(vec![text("wamid.x1", guest, "hola")], vec![]),
    )
    .await;
    post_event(
        &client,
        &second.base,
        &payload(vec![text("wamid.x2", "5491100000008", "hola")], vec![]),
    )
    .await;
    wait_replies(&graph, "5491100000008", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 1);
}
