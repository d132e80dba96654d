//! Dates as half-open night ranges and their compact, order-preserving key encoding.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The nights `[check_in, check_out)`: a guest sleeps the night of `check_in` and leaves on
/// `check_out`, so two stays that share a turnover day do not overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NightRange {
    #[serde(serialize_with = "serialize_date")]
    check_in: Date,
    #[serde(serialize_with = "serialize_date")]
    check_out: Date,
}

/// A range whose check-out is not after its check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("check_out must be after check_in")]
pub struct EmptyRange;

impl NightRange {
    /// A range of at least one night.
    pub fn new(check_in: Date, check_out: Date) -> Result<Self, EmptyRange> {
        if check_out <= check_in {
            return Err(EmptyRange);
        }
        Ok(Self {
            check_in,
            check_out,
        })
    }

    pub fn check_in(&self) -> Date {
        self.check_in
    }

    pub fn check_out(&self) -> Date {
        self.check_out
    }

    /// Number of nights (always at least one).
    pub fn nights(&self) -> u32 {
        let days = self
            .check_in
            .until(self.check_out)
            .map_or(1, |span| span.get_days());
        u32::try_from(days).unwrap_or(1)
    }

    /// Whether the two ranges share at least one night.
    pub fn overlaps(&self, other: &NightRange) -> bool {
        self.check_in < other.check_out && other.check_in < self.check_out
    }

    /// Whether `night` is one of this range's nights.
    pub fn contains(&self, night: Date) -> bool {
        self.check_in <= night && night < self.check_out
    }

    /// Every night of the range, in order.
    pub fn nights_iter(&self) -> impl Iterator<Item = Date> + use<> {
        let end = self.check_out;
        self.check_in.series(1.day()).take_while(move |d| *d < end)
    }
}

/// Serializes `date` as `yyyy-mm-dd`, exactly as its `Display` (and jiff's `Serialize`) would,
/// without the `fmt` machinery: every stored reservation and priced response has several.
pub fn serialize_date<S: serde::Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
    let Ok(year) = u16::try_from(date.year()) else {
        return s.collect_str(date);
    };
    if year > 9999 {
        return s.collect_str(date);
    }
    let digit = |n: u16| b'0' + (n % 10) as u8;
    let (month, day) = (date.month() as u16, date.day() as u16);
    let text = [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    s.serialize_str(std::str::from_utf8(&text).expect("ASCII digits"))
}

/// Years accepted from the outside world; keeps [`date_key`] positive and meaningful.
pub const YEARS: std::ops::RangeInclusive<i16> = 2000..=2199;

/// Parses `yyyy-mm-dd` within [`YEARS`].
pub fn parse_date(text: &str) -> Option<Date> {
    text.trim()
        .parse::<Date>()
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// Encodes a date as `yyyymmdd`, which sorts like the date itself (used as a store key).
pub fn date_key(date: Date) -> i32 {
    i32::from(date.year()) * 10_000 + i32::from(date.month()) * 100 + i32::from(date.day())
}

/// Decodes [`date_key`]; `None` for a number that is not a valid date.
pub fn date_from_key(key: i32) -> Option<Date> {
    let year = i16::try_from(key / 10_000).ok()?;
    let month = i8::try_from(key / 100 % 100).ok()?;
    let day = i8::try_from(key % 100).ok()?;
    Date::new(year, month, day).ok()
}

/// The civil date at the property at instant `now`.
pub fn local_today(now: Timestamp, tz: &TimeZone) -> Date {
    tz.to_datetime(now).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn rejects_empty_and_inverted_ranges() {
        assert_eq!(
            NightRange::new(date(2025, 1, 3), date(2025, 1, 3)),
            Err(EmptyRange)
        );
        assert_eq!(
            NightRange::new(date(2025, 1, 4), date(2025, 1, 3)),
            Err(EmptyRange)
        );
    }

    #[test]
    fn counts_nights_across_month_and_year_ends() {
        let r = NightRange::new(date(2024, 12, 30), date(2025, 1, 2)).unwrap();
        assert_eq!(r.nights(), 3);
        assert_eq!(
            r.nights_iter().collect::<Vec<_>>(),
            vec![date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1)]
        );
    }

    #[test]
    fn back_to_back_ranges_do_not_overlap() {
        let a = NightRange::new(date(2025, 1, 3), date(2025, 1, 6)).unwrap();
        let b = NightRange::new(date(2025, 1, 6), date(2025, 1, 8)).unwrap();
        assert!(!a.overlaps(&b));
        assert!(!b.overlaps(&a));
        assert!(!a.contains(date(2025, 1, 6)));
        let c = NightRange::new(date(2025, 1, 5), date(2025, 1, 7)).unwrap();
        assert!(a.overlaps(&c) && c.overlaps(&a));
    }

    #[test]
    fn parse_date_accepts_plain_dates_in_range_only() {
        assert_eq!(parse_date(" 2025-01-03 "), Some(date(2025, 1, 3)));
        for bad in [
            "-000001-01-01",
            "1999-12-31",
            "2200-01-01",
            "2025-02-30",
            "03/01/2025",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn today_follows_the_property_time_zone() {
        let tz = TimeZone::get("America/Argentina/Buenos_Aires").unwrap();
        let now: Timestamp = "2025-01-04T01:30:00Z".parse().unwrap();
        assert_eq!(local_today(now, &tz), date(2025, 1, 3));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1900i16..2200, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
    }

    proptest! {
        #[test]
        fn date_key_round_trips_and_preserves_order(a in any_date(), b in any_date()) {
            prop_assert_eq!(date_from_key(date_key(a)), Some(a));
            prop_assert_eq!(a.cmp(&b), date_key(a).cmp(&date_key(b)));
        }

        #[test]
        fn serialize_date_writes_what_display_writes(y in -9999i16..=9999, m in 1i8..=12, d in 1i8..=28) {
            #[derive(Serialize)]
            struct Wrapped(#[serde(serialize_with = "serialize_date")] Date);
            let date = date(y, m, d);
            prop_assert_eq!(serde_json::to_string(&Wrapped(date)).unwrap(), serde_json::to_string(&date).unwrap());
        }

        #[test]
        fn overlap_is_symmetric_and_matches_shared_nights(
            a in any_date(), la in 1i64..40, b in any_date(), lb in 1i64..40
        ) {
            let ra = NightRange::new(a, a.checked_add(la.days()).unwrap()).unwrap();
            let rb = NightRange::new(b, b.checked_add(lb.days()).unwrap()).unwrap();
            let shared = ra.nights_iter().any(|n| rb.contains(n));
            prop_assert_eq!(ra.overlaps(&rb), shared);
            prop_assert_eq!(ra.overlaps(&rb), rb.overlaps(&ra));
            prop_assert_eq!(ra.nights() as i64, la);
        }
    }
}
