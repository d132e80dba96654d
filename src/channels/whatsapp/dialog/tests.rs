//! The dialog on its own: real messages through the real NLU, no store, no clock.

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::app::booking::Quote;
use crate::domain::accommodation::tests::input;
use crate::domain::accommodation::{Accommodation, AccommodationInput};
use crate::domain::dates::NightRange;
use crate::domain::ids::AccommodationId;
use crate::domain::money::Rate;
use crate::domain::nlu::analyze;
use crate::domain::pricing;

const GUEST: &str = "5491122334455";

fn rules() -> Rules {
    Rules {
        property: "Cabañas del Sur".into(),
        idle: std::time::Duration::from_secs(30 * 60),
        handover: std::time::Duration::from_secs(12 * 3600),
        hold_minutes: 30,
        deposit_percent: 30,
        links: vec![],
    }
}

/// Wednesday 2026-11-25, 12:00 at the property.
fn today() -> Date {
    date(2026, 11, 25)
}

fn noon() -> Timestamp {
    "2026-11-25T15:00:00Z".parse().unwrap()
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn names() -> Vec<(u64, String)> {
    vec![
        (1, "Cabaña del Bosque".into()),
        (2, "Cabaña del Lago".into()),
    ]
}

fn incoming<'a>(kind: &'a str, text: Option<&'a str>, choice: Option<&'a str>) -> Incoming<'a> {
    Incoming {
        from: GUEST,
        kind,
        choice,
        text,
        profile_name: Some("Ana"),
    }
}

fn send(conv: &mut Conversation, text: &str, at: Timestamp) -> Turn {
    let understand = |t: &str| analyze(t, today(), &names());
    on_message(
        conv,
        incoming("text", Some(text), None),
        understand,
        at,
        &rules(),
    )
}

fn press(conv: &mut Conversation, choice: &str, at: Timestamp) -> Turn {
    let understand = |_: &str| -> Analysis { unreachable!("a button needs no reading") };
    on_message(
        conv,
        incoming("interactive", None, Some(choice)),
        understand,
        at,
        &rules(),
    )
}

/// The text of the first message of `replies`.
fn first_text(replies: &[NewOutbound]) -> String {
    let b = &replies[0].body;
    [&b["text"]["body"], &b["interactive"]["body"]["text"]]
        .into_iter()
        .find_map(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn says(turn: &Turn, key: &str, vars: &[(&str, String)]) -> bool {
    matches!(turn, Turn::Reply(r) if first_text(r) == render(key, vars))
}

fn quote(id: u64, name: &str, check_in: Date, check_out: Date) -> Quote {
    let spec = AccommodationInput {
        name: name.into(),
        ..input()
    }
    .validate()
    .unwrap();
    let range = NightRange::new(check_in, check_out).unwrap();
    Quote {
        price: pricing::quote(&spec, &range, Rate::percent(30)),
        accommodation: Accommodation {
            id: AccommodationId::new(id),
            spec,
        },
        range,
        guests: 2,
        available: true,
    }
}

/// A conversation whose quote waits for "sí".
fn quoted() -> Conversation {
    Conversation {
        check_in: Some(date(2026, 12, 4)),
        check_out: Some(date(2026, 12, 7)),
        guests: Some(2),
        accommodation_id: Some(1),
        step: Step::ConfirmHold,
        last_message_at: Some(noon()),
        ..Conversation::default()
    }
}

#[test]
fn slots_are_filled_across_messages_then_quoted() {
    let mut conv = Conversation::default();
    assert!(says(
        &send(&mut conv, "quiero reservar", noon()),
        "ask_dates",
        &[]
    ));
    let t = noon() + minutes(1);
    let asked = send(&mut conv, "del 4 al 7 de diciembre", t);
    assert!(says(&asked, "ask_guests", &[]), "{asked:?}");
    assert_eq!(
        (conv.check_in, conv.check_out),
        (Some(date(2026, 12, 4)), Some(date(2026, 12, 7)))
    );
    let t = t + minutes(1);
    assert_eq!(
        send(&mut conv, "somos dos", t),
        Turn::Quote {
            check_in: date(2026, 12, 4),
            check_out: date(2026, 12, 7),
            guests: 2
        }
    );
    let offers = [
        quote(1, "Cabaña del Bosque", date(2026, 12, 4), date(2026, 12, 7)),
        quote(2, "Cabaña del Lago", date(2026, 12, 4), date(2026, 12, 7)),
    ];
    let Offered::Replies(choice) = offer(&mut conv, GUEST, &offers, &rules()) else {
        panic!("two free accommodations are offered")
    };
    assert_eq!(choice[0].kind, "buttons", "two choices fit in buttons");
    assert_eq!(conv.step, Step::Idle, "nothing to confirm before a choice");
    assert!(matches!(press(&mut conv, "acc:2", t), Turn::Quote { .. }));
    let Offered::Replies(quoted) = offer(&mut conv, GUEST, &offers, &rules()) else {
        panic!("the chosen one is free")
    };
    assert_eq!(
        (conv.accommodation_id, &conv.step),
        (Some(2), &Step::ConfirmHold)
    );
    assert!(first_text(&quoted).contains("Cabaña del Lago"));
    // With the guest site: the page link and the first photo come with the quote.
    let mut with_site = rules();
    with_site.links = vec![super::PageLink {
        id: 2,
        page: "https://reservas.example.com.ar/alojamientos/cabana-del-lago".into(),
        photo: Some("https://reservas.example.com.ar/media/abc.jpg".into()),
    }];
    let Offered::Replies(linked) = offer(&mut conv, GUEST, &offers, &with_site) else {
        panic!("the chosen one is free")
    };
    assert_eq!(linked[0].kind, "image");
    assert_eq!(
        linked[0].body["image"]["link"],
        "https://reservas.example.com.ar/media/abc.jpg"
    );
    assert!(
        linked[0].body["image"]["caption"]
            .as_str()
            .unwrap()
            .contains("/alojamientos/cabana-del-lago")
    );
    assert_eq!(
        linked.last().unwrap().kind,
        "buttons",
        "the quote with its buttons last"
    );
}

#[test]
fn a_later_date_after_the_check_in_is_the_check_out() {
    let mut conv = Conversation::default();
    send(&mut conv, "quiero ir el 4 de diciembre", noon());
    assert_eq!(
        (conv.check_in, conv.check_out),
        (Some(date(2026, 12, 4)), None)
    );
    send(&mut conv, "hasta el 8 de diciembre", noon() + minutes(1));
    assert_eq!(conv.check_out, Some(date(2026, 12, 8)));
}

#[test]
fn yes_takes_the_hold_and_no_forgets_the_stay() {
    let slots = Slots {
        check_in: date(2026, 12, 4),
        check_out: date(2026, 12, 7),
        guests: 2,
        accommodation_id: 1,
    };
    let later = noon() + minutes(2);
    assert_eq!(send(&mut quoted(), "sí", later), Turn::Hold(slots));
    assert_eq!(press(&mut quoted(), "hold:yes", later), Turn::Hold(slots));
    let mut declined = quoted();
    assert!(says(&send(&mut declined, "no", later), "declined", &[]));
    assert_eq!((declined.check_in, declined.guests), (None, None));
    assert_eq!(declined.step, Step::Idle);

    let mut conv = quoted();
    let vars = vec![("code", "RES261125A1B2C3".to_owned())];
    let taken = HoldOutcome::Taken {
        code: "RES261125A1B2C3".into(),
        linked: true,
        vars: vars.clone(),
    };
    let replies = held(&mut conv, GUEST, taken, &rules());
    assert_eq!(first_text(&replies), render("hold_taken", &vars));
    assert_eq!(conv.reservations, ["RES261125A1B2C3"]);
    assert_eq!(conv.watched, ["RES261125A1B2C3"]);
    assert_eq!((conv.step, conv.check_in), (Step::Idle, None));

    let mut lost = quoted();
    let replies = held(&mut lost, GUEST, HoldOutcome::DatesTaken, &rules());
    assert_eq!(first_text(&replies), render("dates_taken", &[]));
    assert_eq!(lost.accommodation_id, None);
}

#[test]
fn cancelling_asks_for_a_confirmation_first() {
    let code = "RES261125A1B2C3".to_owned();
    let mut conv = Conversation::default();
    assert_eq!(
        send(&mut conv, "quiero cancelar mi reserva", noon()),
        Turn::AskCancel
    );
    let ask = ask_cancel(&mut conv, GUEST, Some((code.clone(), vec![])));
    assert_eq!(ask[0].kind, "buttons");
    assert_eq!(conv.step, Step::ConfirmCancel { code: code.clone() });
    let mut kept = conv.clone();
    assert_eq!(send(&mut conv, "sí", noon()), Turn::Cancel(code.clone()));
    assert_eq!(conv.step, Step::Idle);
    let kept_reply = send(&mut kept, "no", noon());
    assert!(says(
        &kept_reply,
        "cancel_kept",
        &replies::cancel_vars(GUEST, &code, &rules())
    ));
    assert_eq!(kept.step, Step::Idle);

    let mut pressed = Conversation {
        step: Step::ConfirmCancel { code: code.clone() },
        last_message_at: Some(noon()),
        ..Conversation::default()
    };
    assert_eq!(
        press(&mut pressed, "cancel:yes", noon()),
        Turn::Cancel(code.clone())
    );
    let mut nothing = Conversation::default();
    let reply = ask_cancel(&mut nothing, GUEST, None);
    assert_eq!(first_text(&reply), render("cancel_nothing", &[]));
    assert_eq!(nothing.step, Step::Idle);
}

#[test]
fn a_handover_silences_the_bot_until_handed_back_or_timed_out() {
    let mut conv = Conversation::default();
    let Turn::HandOver(reply) = send(&mut conv, "quiero hablar con una persona", noon()) else {
        panic!("a person is asked for")
    };
    let property = rules().property;
    assert_eq!(
        first_text(&reply),
        render("handover", &[("property", property)])
    );
    assert_eq!(
        conv.handover_until,
        Some(noon() + SignedDuration::from_hours(12))
    );
    assert_eq!(send(&mut conv, "hola?", noon() + minutes(60)), Turn::Silent);
    let understand = |_: &str| -> Analysis { unreachable!() };
    let resume = incoming(RESUME_KIND, None, None);
    assert_eq!(
        on_message(&mut conv, resume, understand, noon(), &rules()),
        Turn::Silent
    );
    assert_eq!(conv.handover_until, None);
    assert!(matches!(
        send(&mut conv, "hola", noon() + minutes(61)),
        Turn::Reply(_)
    ));

    let take_over = incoming(TAKE_OVER_KIND, None, None);
    assert_eq!(
        on_message(&mut conv, take_over, understand, noon(), &rules()),
        Turn::Silent
    );
    assert_eq!(send(&mut conv, "hola", noon() + minutes(60)), Turn::Silent);
    let after = noon() + SignedDuration::from_hours(13);
    assert!(matches!(send(&mut conv, "hola", after), Turn::Reply(_)));
    assert_eq!(conv.handover_until, None);
}

#[test]
fn a_stay_left_half_told_is_forgotten_after_the_idle_timeout() {
    let mut conv = Conversation::default();
    send(&mut conv, "del 4 al 7 de diciembre", noon());
    let soon = send(&mut conv.clone(), "somos dos", noon() + minutes(29));
    assert!(matches!(soon, Turn::Quote { .. }), "{soon:?}");
    let late = send(&mut conv, "somos dos", noon() + minutes(31));
    assert!(says(&late, "ask_dates", &[]), "{late:?}");
    assert_eq!(conv.guests, Some(2));
    assert_eq!(conv.check_in, None);
}

#[test]
fn a_voice_note_nobody_could_read_asks_to_write() {
    let mut conv = Conversation::default();
    let understand = |_: &str| -> Analysis { unreachable!() };
    let voice = incoming("audio", None, None);
    let turn = on_message(&mut conv, voice, understand, noon(), &rules());
    assert!(says(&turn, "voice_unclear", &[]));
}

#[test]
fn nothing_free_offers_nearby_dates_from_today_on() {
    let mut conv = quoted();
    conv.accommodation_id = None;
    let Offered::NothingFree(first) = offer(&mut conv, GUEST, &[], &rules()) else {
        panic!("nothing is free")
    };
    assert_eq!(first.len(), 1);
    let stays = alternative_stays(date(2026, 11, 26), date(2026, 11, 28), today());
    assert_eq!(stays[0], (date(2026, 11, 27), date(2026, 11, 29)));
    assert_eq!(stays[1], (date(2026, 11, 25), date(2026, 11, 27)));
    assert!(stays.iter().all(|(a, _)| *a >= today()), "{stays:?}");
    let found = [quote(1, "Cabaña del Bosque", stays[0].0, stays[0].1)];
    assert!(first_text(&[alternatives(GUEST, &found, &rules())]).contains("Cabaña del Bosque"));
}
