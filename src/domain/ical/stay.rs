//! A guest's own stay as a one-event calendar (`.ics`) for their phone's calendar: all-day
//! from check-in to check-out, with the place and the code.

use jiff::Timestamp;

use super::export::ical_date;
use super::text::{escape_text, push_folded};
use crate::domain::dates::NightRange;

/// What the guest's calendar shows.
pub struct StayEvent<'a> {
    /// Unique and stable: `RES…@domain`.
    pub uid: &'a str,
    pub summary: &'a str,
    /// The address, once the stay is confirmed; empty before.
    pub location: &'a str,
    pub description: &'a str,
    pub range: NightRange,
    pub stamp: Timestamp,
}

/// The VCALENDAR with the one event.
pub fn render(e: &StayEvent<'_>) -> String {
    let stamp = e.stamp.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::with_capacity(512);
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        concat!(
            "PRODID:-//alojamientos//alojamientos ",
            env!("CARGO_PKG_VERSION"),
            "//ES"
        )
        .to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape_text(e.uid)),
        format!("DTSTAMP:{stamp}"),
        format!("DTSTART;VALUE=DATE:{}", ical_date(e.range.check_in())),
        format!("DTEND;VALUE=DATE:{}", ical_date(e.range.check_out())),
        format!("SUMMARY:{}", escape_text(e.summary)),
        format!("DESCRIPTION:{}", escape_text(e.description)),
    ];
    if !e.location.is_empty() {
        lines.push(format!("LOCATION:{}", escape_text(e.location)));
    }
    lines.push("TRANSP:OPAQUE".to_owned());
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    for line in lines {
        push_folded(&mut out, &line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn one_all_day_event_from_check_in_to_check_out() {
        let text = render(&StayEvent {
            uid: "RES270108ABCDEF@alojamientos.local",
            summary: "Estadía en Cabaña del Lago; Los Coihues",
            location: "",
            description: "Código RES270108ABCDEF",
            range: NightRange::new(date(2027, 1, 8), date(2027, 1, 11)).unwrap(),
            stamp: "2026-12-06T12:00:00Z".parse().unwrap(),
        });
        assert!(text.contains("DTSTART;VALUE=DATE:20270108\r\n"));
        assert!(text.contains("DTEND;VALUE=DATE:20270111\r\n"));
        assert!(text.contains("SUMMARY:Estadía en Cabaña del Lago\\; Los Coihues\r\n"));
        assert!(!text.contains("LOCATION"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
