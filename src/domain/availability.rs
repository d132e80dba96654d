//! Which dates are taken, given the stays and blocks that may hold them.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use super::dates::NightRange;

/// Something that may hold nights on an accommodation: a booking, a hold or a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    pub range: NightRange,
    /// For a pre-reservation, when its hold lapses; `None` for things that hold until changed.
    pub hold_expires_at: Option<Timestamp>,
}

impl Occupancy {
    /// Whether it holds its nights at `now`. A lapsed hold holds nothing, even before the
    /// expiry job has marked it expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.hold_expires_at.is_none_or(|at| at > now)
    }
}

/// Whether every night of `range` is free of live occupancies.
pub fn is_free<'a>(
    range: &NightRange,
    taken: impl IntoIterator<Item = &'a Occupancy>,
    now: Timestamp,
) -> bool {
    !taken
        .into_iter()
        .any(|o| o.is_live(now) && o.range.overlaps(range))
}

/// One day in an availability calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayAvailability {
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "super::dates::serialize_date")]
    pub date: Date,
    /// Whether the night of this date can be booked.
    pub available: bool,
}

/// Per-night availability for the nights of `window`.
pub fn daily<'a>(
    window: &NightRange,
    taken: impl IntoIterator<Item = &'a Occupancy> + Clone,
    now: Timestamp,
) -> Vec<DayAvailability> {
    let live: Vec<&Occupancy> = taken.into_iter().filter(|o| o.is_live(now)).collect();
    window
        .nights_iter()
        .map(|date| DayAvailability {
            date,
            available: !live.iter().any(|o| o.range.contains(date)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn range(a: Date, b: Date) -> NightRange {
        NightRange::new(a, b).unwrap()
    }

    fn now() -> Timestamp {
        "2025-01-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn confirmed_stays_block_and_back_to_back_is_free() {
        let taken = [Occupancy {
            range: range(date(2025, 1, 3), date(2025, 1, 6)),
            hold_expires_at: None,
        }];
        assert!(!is_free(
            &range(date(2025, 1, 5), date(2025, 1, 7)),
            &taken,
            now()
        ));
        assert!(is_free(
            &range(date(2025, 1, 6), date(2025, 1, 8)),
            &taken,
            now()
        ));
        assert!(is_free(
            &range(date(2025, 1, 1), date(2025, 1, 3)),
            &taken,
            now()
        ));
    }

    #[test]
    fn a_lapsed_hold_frees_its_nights_at_once() {
        let expires: Timestamp = "2025-01-01T12:30:00Z".parse().unwrap();
        let taken = [Occupancy {
            range: range(date(2025, 1, 3), date(2025, 1, 6)),
            hold_expires_at: Some(expires),
        }];
        let wanted = range(date(2025, 1, 4), date(2025, 1, 5));
        assert!(!is_free(&wanted, &taken, now()));
        assert!(is_free(&wanted, &taken, expires));
    }

    #[test]
    fn daily_marks_each_taken_night() {
        let taken = [Occupancy {
            range: range(date(2025, 1, 3), date(2025, 1, 5)),
            hold_expires_at: None,
        }];
        let days = daily(&range(date(2025, 1, 2), date(2025, 1, 6)), &taken, now());
        let flags: Vec<bool> = days.iter().map(|d| d.available).collect();
        assert_eq!(flags, [true, false, false, true]);
    }
}
