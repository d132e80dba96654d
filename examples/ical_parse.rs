//! Benchmark: parse an Airbnb-style 10,000-event feed and diff it against 10,000 stored stays
//! (a tenth of them moved). Run with `cargo run --release --example ical_parse`.

use std::time::Instant;

use alojamientos::domain::dates::NightRange;
use alojamientos::domain::ical::EventKind;
use alojamientos::domain::ical::feed::{FeedRules, parse};
use alojamientos::domain::ical::snapshot::{ChurnGuard, Known, plan};
use jiff::ToSpan;
use jiff::civil::date;

const EVENTS: i32 = 10_000;
const ROUNDS: usize = 20;

fn main() {
    let start = date(2027, 1, 1);
    let mut feed = String::from(
        "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nCALSCALE:GREGORIAN\r\nVERSION:2.0\r\n",
    );
    let mut known = Vec::new();
    for i in 0..EVENTS {
        let from = start.checked_add((i * 3).days()).unwrap();
        let to = from.checked_add(2.days()).unwrap();
        let uid = format!("{i:012x}-5bd5d3c1a2b4b7ec2ff4b2a2e34f52b4@airbnb.com");
        feed.push_str(&format!(
            "BEGIN:VEVENT\r\nDTEND;VALUE=DATE:{}\r\nDTSTART;VALUE=DATE:{}\r\nUID:{uid}\r\nDESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/de\r\n tails/HM{i:08}\\nPhone Number (Last 4 Digits): 4455\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\n",
            to.strftime("%Y%m%d"),
            from.strftime("%Y%m%d"),
        ));
        let stored_to = if i % 10 == 0 {
            to.checked_add(1.day()).unwrap()
        } else {
            to
        };
        known.push(Known {
            uid,
            range: NightRange::new(from, stored_to).unwrap(),
            kind: EventKind::Reservation,
        });
    }
    feed.push_str("END:VCALENDAR\r\n");
    let rules = FeedRules {
        tz: jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap(),
        checkout_is_dtend: true,
        own_uid_domain: "alojamientos.local".into(),
    };
    let guard = ChurnGuard {
        max_share: 0.5,
        min_releases: 3,
    };
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let parsed = parse(feed.as_bytes(), &rules).unwrap();
        let p = plan(&known, &parsed, date(2026, 12, 1), guard, false);
        times.push(t.elapsed());
        assert_eq!(parsed.events.len(), EVENTS as usize);
        assert_eq!(p.update.len(), (EVENTS / 10) as usize);
    }
    times.sort();
    println!(
        "parse + diff of a {EVENTS}-event feed ({} KB): median {:.1} ms, worst {:.1} ms over {ROUNDS} rounds",
        feed.len() / 1024,
        times[ROUNDS / 2].as_secs_f64() * 1e3,
        times[ROUNDS - 1].as_secs_f64() * 1e3
    );
}
