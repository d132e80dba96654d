//! What each fuzz target does with its input, shared by the cargo-fuzz targets (`fuzz/`, run on
//! nightly) and by `tests/api/reliability/fuzz_replay.rs`, which replays every committed corpus and regression
//! input in the normal `cargo test`. A target panics when the code under test panics or breaks
//! the property named in its doc comment.

#![allow(dead_code)]

pub mod http;

use alojamientos::domain::accommodation::{AccommodationInput, Day, Kind};
use alojamientos::domain::contact::{normalize_phone, whatsapp_phone};
use alojamientos::domain::dates::NightRange;
use alojamientos::domain::ical::feed::{FeedRules, parse};
use alojamientos::domain::money::{MAX_AMOUNT, Money, Rate};
use alojamientos::domain::pricing::quote;
use alojamientos::domain::stay::MAX_NIGHTS;
use alojamientos::http::webhook_signature::{self, Presented};
use jiff::civil::date;

/// What a target runs on one input.
pub type Target = fn(&[u8]);

/// The targets, by the name of their corpus directory.
pub const TARGETS: [(&str, Target); 9] = [
    ("ical", ical),
    ("config", config),
    ("json_bodies", http::json_bodies),
    ("mp_webhook", mp_webhook),
    ("wa_webhook", http::wa_webhook),
    ("nlu", nlu),
    ("csv", csv),
    ("money", money),
    ("phone", phone),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The feed parser never panics, every event it returns is a stay of at least one night in
/// the years feeds use, and it counts no more broken events than the body has `BEGIN:VEVENT`s.
pub fn ical(data: &[u8]) {
    let rules = FeedRules {
        tz: jiff::tz::db()
            .get("America/Argentina/Buenos_Aires")
            .unwrap(),
        checkout_is_dtend: data.first().is_none_or(|b| b % 2 == 0),
        own_uid_domain: "own.example".into(),
    };
    if let Ok(parsed) = parse(data, &rules) {
        for event in &parsed.events {
            assert!(event.range.nights() >= 1);
            assert!((2000..=2200).contains(&event.range.check_in().year()));
            assert!(!event.uid.is_empty());
        }
        let begins = data
            .windows(12)
            .filter(|w| w.eq_ignore_ascii_case(b"BEGIN:VEVENT"))
            .count();
        assert!(parsed.broken as usize + parsed.events.len() <= begins.max(1) * 2);
    }
}

/// Loading a config file never panics: it gives settings or an error naming what is wrong.
pub fn config(data: &[u8]) {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("alojamientos-fuzz-{}.toml", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(data).unwrap();
    drop(file);
    if let Err(e) = alojamientos::config::Settings::load(Some(&path)) {
        assert!(!e.to_string().is_empty());
    }
    let _ = std::fs::remove_file(&path);
}

/// Reads `key`'s value from a query string the way a form decoder does (`+` is a space,
/// `%XX` a byte).
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            let bytes = v.replace('+', " ").into_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match (bytes[i], hex) {
                    (b'%', Some(b)) => {
                        out.push(b);
                        i += 3;
                    }
                    (b, _) => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

/// Mercado Pago notifications. Input: `query \n x-request-id \n x-signature \n body`, where an
/// `x-signature` of `sign` is replaced by a correct one. The signature check never panics, a
/// header signed with the secret over any id and request id verifies, and the real endpoint
/// answers 200, 400 or 401 (never 5xx).
pub fn mp_webhook(data: &[u8]) {
    let input = text(data);
    let mut parts = input.splitn(4, '\n');
    let (query, rid, header) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let id = query_value(query, "data.id");
    let now = jiff::Timestamp::now().as_second();
    let presented = Presented {
        header: Some(header),
        data_id: id.as_deref(),
        request_id: Some(rid),
    };
    let _ = webhook_signature::verify(http::MP_SECRET.as_bytes(), presented, now, 300);
    let signed = webhook_signature::manifest(id.as_deref(), Some(rid), &now.to_string());
    let v1 = alojamientos::secret::hmac_sha256_hex(http::MP_SECRET.as_bytes(), signed.as_bytes());
    let good = format!("ts={now},v1={v1}");
    let presented = Presented {
        header: Some(&good),
        data_id: id.as_deref(),
        request_id: Some(rid),
    };
    assert_eq!(
        webhook_signature::verify(http::MP_SECRET.as_bytes(), presented, now, 300),
        Ok(())
    );
    http::mp_webhook(data);
}

/// The NLU never panics and what it returns is coherent: a stay that ends after it starts,
/// guests above zero, a number of nights a stay can have, only accommodations it was told
/// about.
pub fn nlu(data: &[u8]) {
    let accommodations = [
        (1, "Cabaña del Bosque".to_owned()),
        (2, "Depto Centro".to_owned()),
    ];
    let a = alojamientos::domain::nlu::analyze(&text(data), date(2026, 12, 6), &accommodations);
    if let (Some(i), Some(o)) = (a.check_in, a.check_out) {
        assert!(o > i, "{a:?}");
    }
    assert!(a.guests.is_none_or(|g| g > 0), "{a:?}");
    assert!(
        a.nights.is_none_or(|n| (1..=MAX_NIGHTS).contains(&n)),
        "{a:?}"
    );
    assert!(a.accommodation_id.is_none_or(|id| id == 1 || id == 2));
}

/// Reads one RFC 4180 record back into its cells.
fn read_csv_record(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (_, c) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// A CSV record reads back (RFC 4180) as the values, apart from apostrophes put in to defuse
/// spreadsheet formulas; no cell, split on `,` or `;` as an es-AR spreadsheet may, starts with
/// a formula character.
pub fn csv(data: &[u8]) {
    let value = text(data);
    let values: Vec<&str> = value.split('\u{1f}').collect();
    let record = alojamientos::http::csv_record(&values);
    let back = read_csv_record(record.strip_suffix("\r\n").unwrap_or(&record));
    assert_eq!(back.len(), values.len(), "{record:?}");
    for (original, read) in values.iter().zip(&back) {
        assert_eq!(
            read.replace('\'', ""),
            original.replace('\'', ""),
            "{record:?}"
        );
        for piece in read.split([',', ';']) {
            assert!(
                !piece.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{read:?} would run as a formula"
            );
        }
    }
}

/// Amounts and rates render and parse back; an accommodation that validates, priced for up to
/// `MAX_NIGHTS` nights, never goes over `MAX_AMOUNT`. Input: `price \n multiplier \n nights`.
pub fn money(data: &[u8]) {
    let input = text(data);
    let mut parts = input.split('\n');
    let (price, multiplier, nights) = (parts.next(), parts.next(), parts.next());
    for part in [price, multiplier, nights].into_iter().flatten() {
        if let Ok(m) = part.parse::<Money>() {
            assert_eq!(m.to_string().parse::<Money>(), Ok(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        }
        if let Ok(r) = part.parse::<Rate>() {
            assert_eq!(r.to_string().parse::<Rate>(), Ok(r));
        }
    }
    let (Some(Ok(base_price)), Some(Ok(multiplier))) = (
        price.map(str::parse::<Money>),
        multiplier.map(str::parse::<Rate>),
    ) else {
        return;
    };
    let input = AccommodationInput {
        name: "Fuzz".into(),
        kind: Kind::Cabin,
        capacity: 2,
        base_price,
        weekend_multiplier: Some(multiplier),
        weekend_nights: Some(vec![Day::Monday, Day::Friday, Day::Saturday, Day::Sunday]),
        min_stay: None,
        seasons: vec![],
        active: None,
        description: None,
    };
    let Ok(spec) = input.validate() else {
        return;
    };
    let nights = nights
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_NIGHTS);
    let from = date(2027, 1, 1);
    let to = from
        .checked_add(jiff::Span::new().days(i64::from(nights)))
        .unwrap();
    let q = quote(&spec, &NightRange::new(from, to).unwrap(), Rate::ONE);
    assert!(q.total <= MAX_AMOUNT, "{q:?}");
    assert_eq!(q.deposit, q.total);
}

/// Phone normalisation never panics, is idempotent, and what it returns is the number
/// WhatsApp would report for it.
pub fn phone(data: &[u8]) {
    let input = text(data);
    for cc in ["54", "1", "34"] {
        if let Some(e164) = normalize_phone(&input, cc) {
            assert!(e164.starts_with('+'));
            assert_eq!(
                normalize_phone(&e164, cc).as_ref(),
                Some(&e164),
                "{input:?}"
            );
            assert_eq!(
                whatsapp_phone(&e164[1..]).as_ref(),
                Some(&e164),
                "{input:?}"
            );
        }
    }
    let _ = whatsapp_phone(&input);
}
