//! Guest messages the fuzzer turned up, through the real WhatsApp webhook and worker: numbers of
//! nights or weeks too large for a calendar are not stays, and the bot keeps answering the
//! chat (and every other chat) afterwards.

use std::time::Duration;

use crate::helpers::fake_graph::{PHONE_ID, post_event, shown};
use crate::helpers::{TestApp, eventually};
use reqwest::StatusCode;
use serde_json::json;

async fn say(app: &TestApp, from: &str, id: &str, text: &str) {
    let event = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5491155550000", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": from}],
            "messages": [{"from": from, "id": id,
                "timestamp": jiff::Timestamp::now().as_second().to_string(),
                "type": "text", "text": {"body": text}}]}}]}]});
    let r = post_event(&app.client, &app.url(""), &event).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn absurd_numbers_of_nights_are_not_stays_and_the_bot_keeps_answering() {
    let (graph, app) = crate::whatsapp::setup(|_| {}).await;
    app.accommodation(json!({})).await;
    let guest = "5491122334455";
    let messages = [
        "hola, quiero ir el 10 de enero",
        "4000000000 noches",
        "700000000 semanas",
        "0 noches",
        "del 31 de diciembre de 2199, 3 noches",
    ];
    for (i, text) in messages.iter().enumerate() {
        say(&app, guest, &format!("wamid.nlu{i}"), text).await;
        let answered = || async { graph.sent_to(guest).len() > i };
        assert!(
            eventually(Duration::from_secs(15), answered).await,
            "no answer to {text:?}; sent: {:?}",
            graph.sent_to(guest).iter().map(shown).collect::<Vec<_>>()
        );
    }
    let other = "5491133334444";
    say(&app, other, "wamid.nlu-other", "hola").await;
    let answered = || async { !graph.sent_to(other).is_empty() };
    assert!(eventually(Duration::from_secs(15), answered).await);
}
