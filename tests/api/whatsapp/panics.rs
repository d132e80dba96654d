//! A guest message whose answer panics (the debug build's failpoint text) never silences the
//! channel: the worker goes on, the message is tried three times, then the guest gets an
//! apology and the message is set aside; a guest writing after it is answered as usual.

use alojamientos::channels::whatsapp::PANIC_TEXT;

use super::{payload, post_signed, say, setup, shown, text, wait_replies};
use reqwest::StatusCode;

#[tokio::test]
async fn a_message_that_panics_is_set_aside_with_an_apology_and_the_bot_keeps_answering() {
    let (graph, app) = setup(|_| {}).await;
    let (poisoner, next) = ("5491166660001", "5491166660002");
    // Both arrive in one event, so the second waits behind the first in the inbox.
    let r = post_signed(
        &app,
        &payload(
            vec![
                text("wamid.panic1", poisoner, PANIC_TEXT),
                text("wamid.panic2", next, "hola"),
            ],
            vec![],
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let apology = shown(&wait_replies(&graph, poisoner, 1).await);
    assert!(
        apology.contains("tuve un problema con tu mensaje"),
        "{apology}"
    );
    assert!(apology.contains("«humano»"), "{apology}");
    let greeting = shown(&wait_replies(&graph, next, 1).await);
    assert!(greeting.starts_with("¡Hola"), "{greeting}");
    assert_eq!(app.metric("whatsapp_worker_panics_total", &[]).await, 3.0);
    assert_eq!(
        app.metric("whatsapp_messages_poisoned_total", &[]).await,
        1.0
    );
    // The chat of the message set aside goes on too.
    let reply = shown(&say(&app, &graph, "wamid.panic3", poisoner, "hola", 2).await);
    assert!(reply.starts_with("¡Hola"), "{reply}");
    let health = app.get("/api/v1/healthz").await;
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["checks"]["whatsapp"]["pending_messages"], 0);
}
