//! Our calendar as OTAs read it: deterministic RFC 5545 output, so the same data always gives
//! the same bytes (and the same ETag).

use jiff::Timestamp;
use jiff::civil::Date;

use super::text::{escape_text, push_folded};
use crate::domain::dates::NightRange;

/// One all-day event of the export. No guest data: the summary is a neutral word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEvent {
    /// Stable and unguessable, in our own domain (`…@domain`).
    pub uid: String,
    pub range: NightRange,
    /// The event's last change: its DTSTAMP and LAST-MODIFIED.
    pub changed_at: Timestamp,
    pub summary: &'static str,
}

/// Per-accommodation export settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportSettings {
    /// The secret part of the export URL (128 random bits, hex). Rotating it breaks old URLs.
    pub token: String,
    /// Key that turns our codes into unguessable, stable UIDs; never rotated, so OTAs keep
    /// matching events across token rotations.
    pub uid_key: String,
    /// Re-export stays imported from feeds (off by default: it creates echo loops).
    pub include_imported: bool,
    pub rotated_at: Timestamp,
}

/// Summary of a booking or a hold.
pub const RESERVED: &str = "Reservado";
/// Summary of an owner block or an imported stay.
pub const BLOCKED: &str = "Bloqueado";

const PRODID: &str = concat!(
    "-//alojamientos//alojamientos ",
    env!("CARGO_PKG_VERSION"),
    "//ES"
);

/// The whole VCALENDAR for `events`, sorted by check-in then UID; valid when empty.
pub fn render(calendar_name: &str, events: &[ExportEvent]) -> String {
    let mut sorted: Vec<&ExportEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (a.range.check_in(), &a.uid).cmp(&(b.range.check_in(), &b.uid)));
    let mut out = String::with_capacity(256 + events.len() * 220);
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        &format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        &format!("X-WR-CALNAME:{}", escape_text(calendar_name)),
    ] {
        push_folded(&mut out, line);
    }
    let mut line = String::with_capacity(128);
    let mut stamp = String::with_capacity(16);
    for event in sorted {
        stamp.clear();
        push_utc_stamp(&mut stamp, event.changed_at);
        push_folded(&mut out, "BEGIN:VEVENT");
        line.clear();
        line.push_str("UID:");
        line.push_str(&escape_text(&event.uid));
        push_folded(&mut out, &line);
        for name in ["DTSTAMP:", "LAST-MODIFIED:"] {
            line.clear();
            line.push_str(name);
            line.push_str(&stamp);
            push_folded(&mut out, &line);
        }
        for (name, date) in [
            ("DTSTART;VALUE=DATE:", event.range.check_in()),
            ("DTEND;VALUE=DATE:", event.range.check_out()),
        ] {
            line.clear();
            line.push_str(name);
            push_date(&mut line, date);
            push_folded(&mut out, &line);
        }
        line.clear();
        line.push_str("SUMMARY:");
        line.push_str(&escape_text(event.summary));
        push_folded(&mut out, &line);
        push_folded(&mut out, "TRANSP:OPAQUE");
        push_folded(&mut out, "END:VEVENT");
    }
    push_folded(&mut out, "END:VCALENDAR");
    out
}

/// `yyyymmdd`, the form of a `VALUE=DATE`.
pub fn ical_date(date: Date) -> String {
    let mut out = String::with_capacity(8);
    push_date(&mut out, date);
    out
}

fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

fn push_date(out: &mut String, date: Date) {
    push_digits(out, u32::try_from(date.year()).unwrap_or(0), 4);
    push_digits(out, u32::from(date.month().unsigned_abs()), 2);
    push_digits(out, u32::from(date.day().unsigned_abs()), 2);
}

/// `yyyymmddThhmmssZ`, a UTC DATE-TIME.
fn push_utc_stamp(out: &mut String, at: Timestamp) {
    let utc = jiff::tz::TimeZone::UTC.to_datetime(at);
    push_date(out, utc.date());
    out.push('T');
    for part in [utc.hour(), utc.minute(), utc.second()] {
        push_digits(out, u32::from(part.unsigned_abs()), 2);
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn event(uid: &str, from: Date, to: Date) -> ExportEvent {
        ExportEvent {
            uid: uid.into(),
            range: NightRange::new(from, to).unwrap(),
            changed_at: "2026-03-01T10:20:30Z".parse().unwrap(),
            summary: RESERVED,
        }
    }

    #[test]
    fn empty_calendar_is_still_a_valid_vcalendar() {
        let out = render("Cabaña", &[]);
        assert!(out.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(
            out.contains("\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Cabaña\r\n")
        );
        assert!(out.ends_with("END:VCALENDAR\r\n"));
        assert!(!out.contains("VEVENT"));
    }

    #[test]
    fn events_are_all_day_with_exclusive_end_and_sorted() {
        let out = render(
            "A",
            &[
                event("b@x", date(2026, 5, 10), date(2026, 5, 12)),
                event("a@x", date(2026, 5, 1), date(2026, 5, 3)),
            ],
        );
        let first = out.find("UID:a@x").unwrap();
        let second = out.find("UID:b@x").unwrap();
        assert!(first < second);
        assert!(out.contains(
            "DTSTAMP:20260301T102030Z\r\nLAST-MODIFIED:20260301T102030Z\r\n\
             DTSTART;VALUE=DATE:20260501\r\nDTEND;VALUE=DATE:20260503\r\nSUMMARY:Reservado\r\n"
        ));
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn dates_and_stamps_are_zero_padded() {
        assert_eq!(ical_date(date(2007, 3, 9)), "20070309");
        let mut s = String::new();
        push_utc_stamp(&mut s, "2026-01-02T03:04:05.9Z".parse().unwrap());
        assert_eq!(s, "20260102T030405Z");
    }

    #[test]
    fn output_is_deterministic() {
        let events = [event("a@x", date(2026, 5, 1), date(2026, 5, 3))];
        assert_eq!(render("A", &events), render("A", &events));
    }
}
