//! The feed parser's tests: real OTA feeds (fixtures), junk around events, line endings,
//! folding, time zones and the broken-event count.

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn rules() -> FeedRules {
    FeedRules {
        tz: jiff::tz::db()
            .get("America/Argentina/Buenos_Aires")
            .unwrap(),
        checkout_is_dtend: true,
        own_uid_domain: "mine.example".into(),
    }
}

fn calendar(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{events}END:VCALENDAR\r\n")
}

fn one(events: &str) -> FeedEvent {
    let parsed = parse(calendar(events).as_bytes(), &rules()).unwrap();
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    parsed.events[0].clone()
}

fn range(a: Date, b: Date) -> NightRange {
    NightRange::new(a, b).unwrap()
}

#[test]
fn all_day_event_has_exclusive_end() {
    let e = one(
        "BEGIN:VEVENT\r\nUID:1@airbnb.com\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270113\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 10), date(2027, 1, 13)));
    assert_eq!(e.kind, EventKind::Reservation);
    assert!(!e.cancelled);
}

#[test]
fn last_night_feeds_add_a_day() {
    let mut r = rules();
    r.checkout_is_dtend = false;
    let text = calendar(
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270112\r\nEND:VEVENT\r\n",
    );
    let parsed = parse(text.as_bytes(), &r).unwrap();
    assert_eq!(
        parsed.events[0].range,
        range(date(2027, 1, 10), date(2027, 1, 13))
    );
}

#[test]
fn utc_and_tzid_times_become_property_local_dates() {
    // 02:00Z on the 10th is still the 9th in Buenos Aires (UTC-3).
    let e = one(
        "BEGIN:VEVENT\r\nUID:z\r\nDTSTART:20270110T020000Z\r\nDTEND:20270112T140000Z\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 9), date(2027, 1, 12)));
    let e = one(
        "BEGIN:VEVENT\r\nUID:t\r\nDTSTART;TZID=\"Europe/Madrid\":20270110T010000\r\nDTEND;TZID=Europe/Madrid:20270113T110000\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 9), date(2027, 1, 13)));
    let e = one(
        "BEGIN:VEVENT\r\nUID:f\r\nDTSTART;TZID=Nowhere/Zone:20270110T150000\r\nDTEND:20270112T100000\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 10), date(2027, 1, 12)));
}

#[test]
fn duration_replaces_dtend_and_a_lone_date_is_one_night() {
    let e = one(
        "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20270110\r\nDURATION:P1W\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 10), date(2027, 1, 17)));
    let e = one(
        "BEGIN:VEVENT\r\nUID:t\r\nDTSTART:20270110T150000\r\nDURATION:P2DT20H\r\nEND:VEVENT\r\n",
    );
    assert_eq!(e.range, range(date(2027, 1, 10), date(2027, 1, 13)));
    let e = one("BEGIN:VEVENT\r\nUID:o\r\nDTSTART;VALUE=DATE:20270110\r\nEND:VEVENT\r\n");
    assert_eq!(e.range, range(date(2027, 1, 10), date(2027, 1, 11)));
}

#[test]
fn cancelled_status_and_block_summaries_are_recognised() {
    let e = one(
        "BEGIN:VEVENT\r\nUID:c\r\nSTATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270111\r\nEND:VEVENT\r\n",
    );
    assert!(e.cancelled);
    for blocked in [
        "Airbnb (Not available)",
        "CLOSED - Not available",
        "Blocked",
        "No disponible",
    ] {
        assert_eq!(classify(blocked), EventKind::Block, "{blocked}");
    }
    for booked in ["Reserved", "Reserved - Juan", "Reservado", ""] {
        assert_eq!(classify(booked), EventKind::Reservation, "{booked}");
    }
}

#[test]
fn broken_events_are_skipped_and_counted_not_fatal() {
    let text = calendar(concat!(
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270110\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:bad-date\r\nDTSTART;VALUE=DATE:2027XX10\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:backwards\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270105\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:cut\r\n",
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270111\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270111\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:task\r\nDTSTART:20270110T110000\r\nDTEND:20270110T150000\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:abc@MINE.example\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270111\r\nEND:VEVENT\r\n",
    ));
    let parsed = parse(text.as_bytes(), &rules()).unwrap();
    assert_eq!(parsed.events.len(), 1);
    assert_eq!(parsed.events[0].uid, "ok");
    assert_eq!(parsed.broken, 4);
    assert_eq!(parsed.ignored, 3, "duplicate UID, same-day task, echo");
}

#[test]
fn lf_only_bom_and_lost_continuation_space_are_tolerated() {
    let text = "\u{feff}BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:lf\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/\nreservations/details/HM\nDTSTART;VALUE=DATE:20270110\nDTEND;VALUE=DATE:20270111\nBEGIN:VALARM\nACTION:DISPLAY\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n";
    let parsed = parse(text.as_bytes(), &rules()).unwrap();
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    assert_eq!(parsed.broken, 0);
}

#[test]
fn truncated_and_non_calendar_bodies_are_not_snapshots() {
    let text = calendar("BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20270110\r\nEND:VEVENT\r\n");
    let cut = &text.as_bytes()[..text.len() - 10];
    assert_eq!(parse(cut, &rules()), Err(FeedError::Truncated));
    assert_eq!(
        parse(b"<html>oops</html>", &rules()),
        Err(FeedError::NotCalendar)
    );
    assert_eq!(parse(b"", &rules()), Err(FeedError::NotCalendar));
    let empty = parse(calendar("").as_bytes(), &rules()).unwrap();
    assert!(empty.events.is_empty());
}

#[test]
fn junk_between_and_inside_events_loses_nothing() {
    let text = "BEGIN:VCALENDAR\r\n<!-- proxy -->\r\nBEGIN:VEVENT  \r\nUID:a\r\nnot ical\r\nDTSTART;VALUE=DATE:20270110\r\n \t \r\nEND:VEVENT<!-- x -->\r\nstray\r\n\t\r\nBEGIN:VTODO\r\nUID:todo\r\nDTSTART;VALUE=DATE:20270101\r\nEND:VTODO\r\nBEGIN:VEVENT\rUID:b\rDTSTART;VALUE=DATE:20270120\rEND:VEVENT\nEND:VCALENDAR\r\n<!-- 3 ms -->\r\n";
    let parsed = parse(text.as_bytes(), &rules()).unwrap();
    let uids: Vec<&str> = parsed.events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(uids, ["a", "b"], "{parsed:?}");
    assert_eq!((parsed.broken, parsed.ignored), (0, 0));
}

/// A line that is not iCalendar: markup, prose, whitespace, or another component.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<!-- cached by proxy -->".to_owned()),
        Just("   ".to_owned()),
        Just("\t".to_owned()),
        Just(String::new()),
        Just("BEGIN:VTODO\r\nUID:t\r\nDTSTART;VALUE=DATE:20270101\r\nEND:VTODO".to_owned()),
        Just("BEGIN:VJOURNAL\r\nEND:VJOURNAL".to_owned()),
        "[a-z][a-z :]{0,29}",
        "<[a-z]{1,8}>[ -~]{0,20}",
    ]
}

proptest! {
    /// Junk lines and other components anywhere between events, and any line endings,
    /// change nothing about the events read.
    #[test]
    fn junk_around_events_changes_nothing(
        events in proptest::collection::vec((0u32..1000, 0i64..300, 1i64..20), 1..8),
        junk in proptest::collection::vec(junk(), 0..12),
        slots in proptest::collection::vec(0usize..9, 0..12),
        ending in prop_oneof![Just("\r\n"), Just("\n"), Just("\r")],
    ) {
        let blocks: Vec<String> = events
            .iter()
            .map(|(uid, start, len)| {
                let from = date(2027, 1, 1).checked_add(Span::new().days(*start)).unwrap();
                let to = from.checked_add(Span::new().days(*len)).unwrap();
                format!(
                    "BEGIN:VEVENT\r\nUID:{uid}@ota.example\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nEND:VEVENT",
                    from.strftime("%Y%m%d"),
                    to.strftime("%Y%m%d")
                )
            })
            .collect();
        let clean = format!("BEGIN:VCALENDAR\r\n{}\r\nEND:VCALENDAR\r\n", blocks.join("\r\n"));
        let mut lines = vec!["BEGIN:VCALENDAR".to_owned()];
        for (i, block) in blocks.iter().enumerate() {
            for (j, slot) in slots.iter().enumerate() {
                if *slot == i {
                    lines.extend(junk.get(j).cloned());
                }
            }
            lines.push(block.clone());
        }
        lines.extend(junk.iter().take(1).cloned());
        lines.push("END:VCALENDAR".to_owned());
        let noisy = lines.join("\r\n").replace("\r\n", ending) + ending;
        prop_assert_eq!(
            parse(noisy.as_bytes(), &rules()).unwrap(),
            parse(clean.as_bytes(), &rules()).unwrap()
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse(&bytes, &rules());
    }

    #[test]
    fn arbitrary_lines_inside_a_calendar_never_panic(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("BEGIN:VEVENT".to_owned()),
                Just("END:VEVENT".to_owned()),
                Just("BEGIN:VALARM".to_owned()),
                Just("END:VALARM".to_owned()),
                Just("END:VCALENDAR".to_owned()),
                "(UID|DTSTART|DTEND|DURATION|STATUS|SUMMARY)(;[A-Z]{1,5}=[^:\\r\\n]{0,12})?:[ -~]{0,24}",
                "[ -~\\t]{0,40}",
            ],
            0..60,
        )
    ) {
        let text = format!("BEGIN:VCALENDAR\r\n{}\r\nEND:VCALENDAR\r\n", lines.join("\r\n"));
        let _ = parse(text.as_bytes(), &rules());
    }
}
