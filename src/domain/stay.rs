//! The rules a requested stay must meet before any availability check.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::accommodation::AccommodationSpec;
use super::dates::NightRange;

/// The longest stay that is ever booked or priced: the upper bound of
/// `reservations.max_nights`.
pub const MAX_NIGHTS: u32 = 365;

/// Why a requested stay is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StayError {
    #[error("check_out must be after check_in")]
    InvalidDates,
    #[error("the stay is longer than the maximum of {max} nights")]
    TooLong { max: u32 },
    #[error("check_in is in the past at the property")]
    PastDates,
    #[error("guests must be at least 1")]
    InvalidGuests,
    #[error("this accommodation takes at most {capacity} guests")]
    CapacityExceeded { capacity: u32 },
    #[error("the minimum stay for these dates is {required} nights")]
    MinStay { required: u32 },
}

/// Limits that come from the property's configuration and clock.
#[derive(Debug, Clone, Copy)]
pub struct StayLimits {
    /// The property's civil date now.
    pub today: Date,
    pub max_nights: u32,
}

/// Builds the night range and checks dates, length, guests, capacity and minimum stay.
pub fn validate_stay(
    spec: &AccommodationSpec,
    check_in: Date,
    check_out: Date,
    guests: u32,
    limits: StayLimits,
) -> Result<NightRange, StayError> {
    let range = NightRange::new(check_in, check_out).map_err(|_| StayError::InvalidDates)?;
    if range.nights() > limits.max_nights {
        return Err(StayError::TooLong {
            max: limits.max_nights,
        });
    }
    if check_in < limits.today {
        return Err(StayError::PastDates);
    }
    if guests < 1 {
        return Err(StayError::InvalidGuests);
    }
    if guests > spec.capacity {
        return Err(StayError::CapacityExceeded {
            capacity: spec.capacity,
        });
    }
    let required = spec.min_stay_for(check_in);
    if range.nights() < required {
        return Err(StayError::MinStay { required });
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accommodation::tests::input;
    use jiff::civil::date;

    const LIMITS: StayLimits = StayLimits {
        today: date(2025, 1, 2),
        max_nights: 30,
    };

    fn check(ci: Date, co: Date, guests: u32) -> Result<NightRange, StayError> {
        let mut i = input();
        i.min_stay = Some(2);
        validate_stay(&i.validate().unwrap(), ci, co, guests, LIMITS)
    }

    #[test]
    fn accepts_a_valid_stay_starting_today() {
        let r = check(date(2025, 1, 2), date(2025, 1, 4), 4).unwrap();
        assert_eq!(r.nights(), 2);
    }

    #[test]
    fn each_rule_gives_its_own_error() {
        assert_eq!(
            check(date(2025, 1, 5), date(2025, 1, 5), 2),
            Err(StayError::InvalidDates)
        );
        assert_eq!(
            check(date(2025, 1, 6), date(2025, 1, 5), 2),
            Err(StayError::InvalidDates)
        );
        assert_eq!(
            check(date(2025, 1, 1), date(2025, 1, 5), 2),
            Err(StayError::PastDates)
        );
        assert_eq!(
            check(date(2025, 1, 5), date(2025, 3, 5), 2),
            Err(StayError::TooLong { max: 30 })
        );
        assert_eq!(
            check(date(2025, 1, 5), date(2025, 1, 8), 0),
            Err(StayError::InvalidGuests)
        );
        assert_eq!(
            check(date(2025, 1, 5), date(2025, 1, 8), 5),
            Err(StayError::CapacityExceeded { capacity: 4 })
        );
        assert_eq!(
            check(date(2025, 1, 5), date(2025, 1, 6), 2),
            Err(StayError::MinStay { required: 2 })
        );
    }
}
