//! Booking in a chat: slots over several messages, offers, alternatives, the hold and its
//! cancellation, payment, reminders.

use super::*;

#[tokio::test]
async fn slots_fill_across_messages_and_a_confirmed_quote_takes_a_hold() {
    let (graph, app) = setup(|_| {}).await;
    let acc = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334455";
    let ask = say(
        &app,
        &graph,
        "wamid.s1",
        guest,
        &format!("hay lugar desde el {}?", dmy(30)),
        1,
    )
    .await;
    assert!(shown(&ask).contains("Hasta qué día"), "{ask}");
    let ask = say(&app, &graph, "wamid.s2", guest, "3 noches", 2).await;
    assert!(shown(&ask).contains("Cuántas personas"), "{ask}");
    let quote = say(&app, &graph, "wamid.s3", guest, "somos dos", 3).await;
    let text = shown(&quote);
    assert!(
        text.contains("Cabaña del Lago")
            && text.contains("Total: $ ")
            && text.contains("30 minutos"),
        "{text}"
    );
    assert_eq!(text.matches("• ").count(), 3, "one line per night: {text}");
    assert_eq!(
        quote["interactive"]["action"]["buttons"][0]["reply"]["id"],
        "hold:yes"
    );
    post_signed(
        &app,
        &payload(vec![button("wamid.s4", guest, "hold:yes")], vec![]),
    )
    .await;
    let held = wait_replies(&graph, guest, 4).await;
    let text = shown(&held);
    assert!(text.contains("Código: RES"), "{text}");
    let code = text.split("Código: ").nth(1).unwrap()[..15].to_owned();
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "pre_reserved");
    assert_eq!(r["channel"], "whatsapp");
    assert_eq!(r["accommodation_id"], acc);
    assert_eq!(r["check_in"], day(30));
    assert_eq!(r["check_out"], day(33));
    // The host hears about it (outside their window and without a template: nothing sent),
    // and "mis reservas" lists the hold.
    let mine = say(&app, &graph, "wamid.s5", guest, "mis reservas", 5).await;
    assert!(shown(&mine).contains(&code), "{mine}");
}

#[tokio::test]
async fn several_accommodations_are_offered_and_only_free_ones() {
    let (graph, app) = setup(|_| {}).await;
    let a = app
        .accommodation(json!({"name": "Cabaña del Bosque"}))
        .await;
    let b = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let c = app
        .accommodation(json!({"name": "Departamento Centro", "capacity": 2}))
        .await;
    assert_eq!(
        app.reserve(a, &day(40), &day(42)).await.status(),
        StatusCode::CREATED
    );
    let guest = "5491122334466";
    let offer = say(
        &app,
        &graph,
        "wamid.o1",
        guest,
        &format!("del {} al {} para 2", dmy(40), dmy(42)),
        1,
    )
    .await;
    let ids: Vec<String> = offer["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [format!("acc:{b}"), format!("acc:{c}")], "{offer}");
    post_signed(
        &app,
        &payload(vec![button("wamid.o2", guest, &format!("acc:{c}"))], vec![]),
    )
    .await;
    let quote = wait_replies(&graph, guest, 2).await;
    assert!(shown(&quote).contains("Departamento Centro"), "{quote}");
}

#[tokio::test]
async fn without_availability_the_guest_gets_alternatives() {
    let (graph, app) = setup(|_| {}).await;
    let a = app
        .accommodation(json!({"name": "Cabaña del Bosque"}))
        .await;
    assert_eq!(
        app.reserve(a, &day(50), &day(52)).await.status(),
        StatusCode::CREATED
    );
    let guest = "5491122334477";
    post_signed(
        &app,
        &payload(
            vec![text(
                "wamid.n1",
                guest,
                &format!("del {} al {} somos 2", dmy(50), dmy(52)),
            )],
            vec![],
        ),
    )
    .await;
    let alternatives = wait_replies(&graph, guest, 2).await;
    assert!(shown(&graph.sent_to(guest)[0]).contains("No tengo lugar"));
    let text = shown(&alternatives);
    assert!(
        text.contains("Lo más cercano") && text.contains("Cabaña del Bosque"),
        "{text}"
    );
}

#[tokio::test]
async fn a_hold_is_cancelled_after_confirmation() {
    let (graph, app) = setup(|_| {}).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334488";
    say(
        &app,
        &graph,
        "wamid.c1",
        guest,
        &format!("quiero reservar del {} al {} para 2", dmy(20), dmy(22)),
        1,
    )
    .await;
    let held = say(&app, &graph, "wamid.c2", guest, "dale", 2).await;
    let code = shown(&held).split("Código: ").nth(1).unwrap()[..15].to_owned();
    let ask = say(&app, &graph, "wamid.c3", guest, "quiero cancelar", 3).await;
    assert!(shown(&ask).contains(&code), "{ask}");
    let done = say(&app, &graph, "wamid.c4", guest, "sí", 4).await;
    assert!(shown(&done).contains("cancelé"), "{done}");
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "cancelled");
}

#[tokio::test]
async fn from_hola_to_a_paid_booking_confirmed_over_whatsapp() {
    let mp = FakeMp::start().await;
    let mp_url = mp.url();
    let (graph, app) = setup(move |raw| fake_mp::configure(raw, mp_url)).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334455";
    let hello = say(&app, &graph, "wamid.p1", guest, "hola", 1).await;
    assert!(shown(&hello).contains("¿Para qué fechas"), "{hello}");
    let ask = format!("del {} al {} somos 2 adultos", dmy(25), dmy(27));
    say(&app, &graph, "wamid.p2", guest, &ask, 2).await;
    let held = say(&app, &graph, "wamid.p3", guest, "sí", 3).await;
    let text = shown(&held);
    assert!(
        text.contains("mercadopago") || text.contains("http"),
        "a payment link: {text}"
    );
    let code = text.split("Código: ").nth(1).unwrap()[..15].to_owned();
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    let deposit = r["deposit_amount"].as_str().unwrap().to_owned();
    assert!(text.contains(r["payment_url"].as_str().unwrap()), "{text}");

    mp.set_payment(fake_mp::payment("9001", "approved", &deposit, Some(&code)));
    fake_mp::notify_payment(&app, "9001").await;
    let confirmed = wait_replies(&graph, guest, 4).await;
    let text = shown(&confirmed);
    assert!(
        text.contains("Recibimos tu pago") && text.contains(&code),
        "{text}"
    );
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(r["status"], "confirmed");
}

/// Holds of `hold` with a reminder `before` they lapse, payment links from the fake Mercado
/// Pago at `mp_url`.
fn reminding(
    hold: &'static str,
    before: &'static str,
    mp_url: String,
) -> impl Fn(&mut RawSettings) + Clone {
    move |raw| {
        raw.reservations.hold_duration = hold.into();
        raw.whatsapp.reminder_before = before.into();
        raw.mercadopago.api_base_url = mp_url.clone();
        raw.mercadopago.access_token = fake_mp::TOKEN.into();
        raw.mercadopago.reconcile = "0 0 0 1 1 *".into();
    }
}

/// `guest` asks for two nights and takes the hold; returns its code.
async fn hold_in_chat(app: &TestApp, graph: &FakeGraph, guest: &str, id: &str) -> String {
    let ask = format!("quiero reservar del {} al {} para 2", dmy(70), dmy(72));
    say(app, graph, &format!("{id}.1"), guest, &ask, 1).await;
    let held = say(app, graph, &format!("{id}.2"), guest, "dale", 2).await;
    shown(&held).split("Código: ").nth(1).unwrap()[..15].to_owned()
}

/// The third message to `guest` reminds of hold `code`; the fourth says it lapsed.
async fn reminded_then_told_it_lapsed(graph: &FakeGraph, guest: &str, code: &str) {
    let reminder = wait_replies(graph, guest, 3).await;
    assert!(
        shown(&reminder).contains("Te recuerdo") && shown(&reminder).contains(code),
        "{reminder}"
    );
    let expired = wait_replies(graph, guest, 4).await;
    assert!(shown(&expired).contains("venció"), "{expired}");
}

#[tokio::test]
async fn a_hold_is_reminded_before_it_lapses_and_announced_when_it_did() {
    let mp = FakeMp::start().await;
    let (graph, app) = setup(reminding("5s", "4s", mp.url())).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334422";
    let code = hold_in_chat(&app, &graph, guest, "wamid.e").await;
    reminded_then_told_it_lapsed(&graph, guest, &code).await;
    // Another guest's answer proves the sweeps went on: nothing more for this guest.
    say(&app, &graph, "wamid.e3", "5491100000007", "hola", 1).await;
    assert_eq!(graph.sent_to(guest).len(), 4);
}

#[tokio::test]
async fn a_hold_taken_before_a_restart_is_still_reminded_and_announced() {
    let mp = FakeMp::start().await;
    let holds = reminding("10s", "5s", mp.url());
    let (graph, app) = setup(holds.clone()).await;
    app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let guest = "5491122334423";
    let code = hold_in_chat(&app, &graph, guest, "wamid.r").await;
    // The worker that saw the hold is gone: the new one finds it in the store.
    let g = graph.clone();
    let app = app
        .restart(
            |_| {},
            move |raw| {
                configure(raw, &g);
                holds(raw);
            },
        )
        .await;
    reminded_then_told_it_lapsed(&graph, guest, &code).await;
    drop(app);
}
