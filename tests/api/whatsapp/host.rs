//! The host and the bot: handover, reading and taking over chats, what the bot understands,
//! and voice notes.

use super::*;

#[tokio::test]
async fn after_a_handover_the_bot_is_silent_and_the_host_is_told() {
    let (graph, app) = setup(|raw| raw.whatsapp.template_name = "aviso_general".into()).await;
    let guest = "5491122334499";
    let reply = say(
        &app,
        &graph,
        "wamid.h1",
        guest,
        "quiero hablar con una persona",
        1,
    )
    .await;
    assert!(shown(&reply).contains("Le aviso"), "{reply}");
    // The host never wrote: the 24-hour window is closed, so the notice is the template.
    let notice = wait_replies(&graph, HOST, 1).await;
    assert_eq!(notice["type"], "template");
    assert_eq!(notice["template"]["name"], "aviso_general");
    assert!(shown(&notice).contains(guest));
    post_signed(
        &app,
        &payload(vec![text("wamid.h2", guest, "hola?")], vec![]),
    )
    .await;
    // Another guest's reply proves the worker went past the silenced message.
    say(&app, &graph, "wamid.h3", "5491100000009", "hola", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 1, "silent after the handover");
    // The host hands the chat back: the bot answers again.
    let path = format!("/api/v1/admin/whatsapp/conversations/{guest}/resume");
    assert_eq!(
        app.admin_post(&path, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let missing = app
        .admin_post(
            "/api/v1/admin/whatsapp/conversations/5490000/resume",
            json!({}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let back = say(&app, &graph, "wamid.h4", guest, "hola", 2).await;
    assert!(shown(&back).contains("Hola"), "{back}");
}

#[tokio::test]
async fn the_host_reads_a_chat_and_takes_it_over_from_the_bot() {
    let (graph, app) = setup(|_| {}).await;
    let guest = "5491122334455";
    let reply = say(&app, &graph, "wamid.c1", guest, "hola", 1).await;
    let chats = body(app.admin_get("/api/v1/admin/whatsapp/conversations").await).await;
    assert_eq!(chats[0]["phone"], guest);
    assert_eq!(chats[0]["profile_name"], "Ana");
    assert_eq!(chats[0]["handover"], false);
    let path = format!("/api/v1/admin/whatsapp/conversations/{guest}");
    let chat = body(app.admin_get(&path).await).await;
    let messages = chat["messages"].as_array().unwrap();
    assert_eq!(messages[0]["direction"], "in");
    assert_eq!(messages[0]["text"], "hola");
    assert_eq!(messages[1]["direction"], "out");
    assert_eq!(messages[1]["text"].as_str().unwrap(), shown(&reply));

    // The host takes over: the bot stays silent in that chat, and the command is not shown.
    let take = app.admin_post(&format!("{path}/handover"), json!({})).await;
    assert_eq!(take.status(), StatusCode::NO_CONTENT);
    let taken = eventually(WAIT, || async {
        body(app.admin_get(&path).await).await["handover"] == true
    })
    .await;
    assert!(taken, "the chat is handed over to the host");
    say(&app, &graph, "wamid.c2", guest, "hay lugar?", 1).await;
    say(&app, &graph, "wamid.c3", "5491100000009", "hola", 1).await;
    assert_eq!(
        graph.sent_to(guest).len(),
        1,
        "silent while the host answers"
    );
    let chat = body(app.admin_get(&path).await).await;
    let texts: Vec<&str> = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[2], "hay lugar?");
    let missing = app
        .admin_get("/api/v1/admin/whatsapp/conversations/5490000")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_host_can_see_what_the_bot_understands() {
    let (_graph, app) = setup(|_| {}).await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let req = json!({"text": "hay lugar en la del lago del 20 al 23 de octubre? somos dos adultos y un nene", "reference_date": "2026-11-25"});
    let denied = app.post("/api/v1/nlu/analyze", req.clone()).await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let r = app.admin_post("/api/v1/nlu/analyze", req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        body(r).await,
        json!({"intent": "disponibilidad", "check_in": "2027-10-20", "check_out": "2027-10-23", "guests": 3, "accommodation_id": acc})
    );
    let r = app
        .admin_post("/api/v1/nlu/analyze", json!({"text": "hola"}))
        .await;
    assert_eq!(
        body(r).await,
        json!({"intent": "saludo", "check_in": null, "check_out": null, "guests": null, "accommodation_id": null})
    );
    let bad = app
        .admin_post(
            "/api/v1/nlu/analyze",
            json!({"text": "x", "reference_date": "ayer"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outbox = body(app.admin_get("/api/v1/admin/whatsapp/outbox").await).await;
    assert_eq!(outbox["messages"], json!([]), "no side effects");
}

#[tokio::test]
async fn a_voice_note_is_transcribed_and_answered_like_text() {
    let scripts = tempfile::tempdir().unwrap();
    let stt = scripts.path().join("stt.sh");
    let transcript = format!("hay lugar del {} al {} para dos", dmy(60), dmy(62));
    // The fake STT checks it got the downloaded file, then prints the transcript.
    std::fs::write(
        &stt,
        format!("#!/bin/sh\ngrep -q OggS \"$1\" && echo '{transcript}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&stt, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let command = stt.display().to_string();
    let (graph, app) = setup(move |raw| raw.whatsapp.stt_command = command).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let voice = |id: &str, from: &str| {
        json!({"from": from, "id": id, "timestamp": "1700000000", "type": "audio",
            "audio": {"id": "MEDIA1", "mime_type": "audio/ogg; codecs=opus", "voice": true}})
    };
    post_signed(
        &app,
        &payload(vec![voice("wamid.v1", "5491122334455")], vec![]),
    )
    .await;
    let quote = wait_replies(&graph, "5491122334455", 1).await;
    assert!(
        shown(&quote).contains("Cabaña del Lago") && shown(&quote).contains("Total"),
        "{quote}"
    );
    assert!(app.metric("stt_duration_seconds_count", &[]).await >= 1.0);
}

#[tokio::test]
async fn without_speech_to_text_a_voice_note_gets_asked_to_write() {
    let (graph, app) = setup(|_| {}).await;
    let voice = json!({"from": "5491122334455", "id": "wamid.v2", "timestamp": "1700000000",
        "type": "audio", "audio": {"id": "MEDIA2", "voice": true}});
    post_signed(&app, &payload(vec![voice], vec![])).await;
    let reply = wait_replies(&graph, "5491122334455", 1).await;
    assert!(shown(&reply).contains("escribís"), "{reply}");
}
