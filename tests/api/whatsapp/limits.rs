//! The hold limits in a chat: a guest over them gets the reason in Spanish, and no hold.

use super::*;

/// Asks for a quote and says "sí"; returns the answer to the "sí" (the guest's `n`th reply).
async fn quote_and_accept(
    (app, graph): (&TestApp, &FakeGraph),
    guest: &str,
    ids: (&str, &str),
    words: &str,
    n: usize,
) -> String {
    let quote = say(app, graph, ids.0, guest, words, n).await;
    assert!(shown(&quote).contains("Total"), "{quote}");
    post_signed(
        app,
        &payload(vec![button(ids.1, guest, "hold:yes")], vec![]),
    )
    .await;
    shown(&wait_replies(graph, guest, n + 1).await)
}

#[tokio::test]
async fn a_guest_over_the_hold_limits_is_told_in_spanish() {
    let (graph, app) = setup(|raw| {
        raw.holds.per_phone = 1;
        raw.holds.max_nights = 5;
    })
    .await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122339999";
    let chat = (&app, &graph);
    let too_long = format!("del {} por 7 noches, somos dos", dmy(20));
    let answer = quote_and_accept(chat, guest, ("wamid.l1", "wamid.l2"), &too_long, 1).await;
    assert!(answer.contains("puedo reservar hasta 5 noches"), "{answer}");
    let first = format!("del {} por 3 noches, somos dos", dmy(20));
    let answer = quote_and_accept(chat, guest, ("wamid.l3", "wamid.l4"), &first, 3).await;
    assert!(answer.contains("Código: RES"), "{answer}");
    let second = format!("del {} por 3 noches, somos dos", dmy(40));
    let answer = quote_and_accept(chat, guest, ("wamid.l5", "wamid.l6"), &second, 5).await;
    assert!(
        answer.contains("máximo de reservas pendientes de pago"),
        "{answer}"
    );
    let stats = body(app.admin_get("/api/v1/admin/stats").await).await;
    assert_eq!(stats["counts"]["pre_reserved"], 1, "{stats}");
}
