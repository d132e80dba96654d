//! Accommodations and the validated description a host gives of one.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use super::dates::NightRange;
use super::ids::AccommodationId;
use super::money::{Money, Rate};

/// What sort of place it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cabin,
    Apartment,
    House,
    Room,
}

/// A day of the week, as written in JSON and config (`"friday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    pub fn weekday(self) -> Weekday {
        match self {
            Day::Monday => Weekday::Monday,
            Day::Tuesday => Weekday::Tuesday,
            Day::Wednesday => Weekday::Wednesday,
            Day::Thursday => Weekday::Thursday,
            Day::Friday => Weekday::Friday,
            Day::Saturday => Weekday::Saturday,
            Day::Sunday => Weekday::Sunday,
        }
    }
}

/// A date range with its own nightly price and, optionally, its own minimum stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Season {
    pub name: String,
    /// First night of the season.
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    /// First night after the season (exclusive).
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[schema(value_type = String, example = "15000.00")]
    pub nightly_price: Money,
    pub min_stay: Option<u32>,
}

impl Season {
    pub fn covers(&self, night: Date) -> bool {
        self.from <= night && night < self.to
    }
}

/// A bookable unit with its pricing rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Accommodation {
    #[schema(value_type = u64)]
    pub id: AccommodationId,
    #[serde(flatten)]
    pub spec: AccommodationSpec,
}

/// Everything a host sets about an accommodation; valid by construction through
/// [`AccommodationInput::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccommodationSpec {
    pub name: String,
    pub kind: Kind,
    pub capacity: u32,
    #[schema(value_type = String, example = "12000.00")]
    pub base_price: Money,
    #[schema(value_type = String, example = "1.2")]
    pub weekend_multiplier: Rate,
    pub weekend_nights: Vec<Day>,
    pub min_stay: u32,
    pub seasons: Vec<Season>,
    pub active: bool,
    pub description: String,
}

/// What the API accepts to create or replace an accommodation; optional fields take the defaults.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccommodationInput {
    pub name: String,
    pub kind: Kind,
    pub capacity: u32,
    #[schema(value_type = String, example = "12000.00")]
    pub base_price: Money,
    #[schema(value_type = Option<String>, example = "1.2")]
    pub weekend_multiplier: Option<Rate>,
    pub weekend_nights: Option<Vec<Day>>,
    pub min_stay: Option<u32>,
    #[serde(default)]
    pub seasons: Vec<Season>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// Why an accommodation description was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidAccommodation {
    pub field: &'static str,
    pub reason: &'static str,
}

const fn invalid(field: &'static str, reason: &'static str) -> InvalidAccommodation {
    InvalidAccommodation { field, reason }
}

/// The default weekend multiplier (1.2).
pub const DEFAULT_WEEKEND_MULTIPLIER: Rate = Rate::from_basis_points(12_000);

/// The highest nightly price (base or season) a host may set: 1 000 000 000.00. With
/// [`MAX_WEEKEND_MULTIPLIER`] and the longest stay it keeps every total under the money rule's
/// `MAX_AMOUNT` (checked by the compiler in `pricing`).
pub const MAX_NIGHTLY_PRICE: Money = Money::from_units(1_000_000_000);
/// The highest weekend multiplier a host may set: ×10.
pub const MAX_WEEKEND_MULTIPLIER: Rate = Rate::from_basis_points(100_000);

/// Why a price above [`MAX_NIGHTLY_PRICE`] is refused (a test keeps the two in step).
const MAX_NIGHTLY_PRICE_REASON: &str = "must be at most 1000000000.00 a night";

impl AccommodationInput {
    /// Checks every rule and fills the defaults.
    pub fn validate(self) -> Result<AccommodationSpec, InvalidAccommodation> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("name", "must be 1 to 120 characters"));
        }
        if !(1..=100).contains(&self.capacity) {
            return Err(invalid("capacity", "must be between 1 and 100"));
        }
        if self.base_price == Money::ZERO {
            return Err(invalid("base_price", "must be greater than zero"));
        }
        if self.base_price > MAX_NIGHTLY_PRICE {
            return Err(invalid("base_price", MAX_NIGHTLY_PRICE_REASON));
        }
        let weekend_multiplier = self
            .weekend_multiplier
            .unwrap_or(DEFAULT_WEEKEND_MULTIPLIER);
        if weekend_multiplier.basis_points() == 0 || weekend_multiplier > MAX_WEEKEND_MULTIPLIER {
            return Err(invalid(
                "weekend_multiplier",
                "must be above 0 and at most 10",
            ));
        }
        let mut weekend_nights = self
            .weekend_nights
            .unwrap_or_else(|| vec![Day::Friday, Day::Saturday]);
        weekend_nights.sort_by_key(|d| d.weekday().to_monday_zero_offset());
        weekend_nights.dedup();
        let min_stay = self.min_stay.unwrap_or(1);
        if !(1..=365).contains(&min_stay) {
            return Err(invalid("min_stay", "must be between 1 and 365"));
        }
        let mut seasons = self.seasons;
        for season in &mut seasons {
            season.name = season.name.trim().to_owned();
            if season.name.is_empty() {
                return Err(invalid("seasons.name", "must not be empty"));
            }
            if NightRange::new(season.from, season.to).is_err() {
                return Err(invalid("seasons.to", "must be after seasons.from"));
            }
            if season.nightly_price == Money::ZERO {
                return Err(invalid(
                    "seasons.nightly_price",
                    "must be greater than zero",
                ));
            }
            if season.nightly_price > MAX_NIGHTLY_PRICE {
                return Err(invalid("seasons.nightly_price", MAX_NIGHTLY_PRICE_REASON));
            }
            if season.min_stay.is_some_and(|m| !(1..=365).contains(&m)) {
                return Err(invalid("seasons.min_stay", "must be between 1 and 365"));
            }
        }
        seasons.sort_by_key(|s| s.from);
        if seasons.windows(2).any(|w| w[1].from < w[0].to) {
            return Err(invalid("seasons", "must not overlap each other"));
        }
        let description = self.description.unwrap_or_default().trim().to_owned();
        if description.chars().count() > 2_000 {
            return Err(invalid("description", "must be at most 2000 characters"));
        }
        Ok(AccommodationSpec {
            name,
            kind: self.kind,
            capacity: self.capacity,
            base_price: self.base_price,
            weekend_multiplier,
            weekend_nights,
            min_stay,
            seasons,
            active: self.active.unwrap_or(true),
            description,
        })
    }
}

impl AccommodationSpec {
    /// The season that covers `night`, if any.
    pub fn season_for(&self, night: Date) -> Option<&Season> {
        self.seasons.iter().find(|s| s.covers(night))
    }

    /// The minimum stay that applies to a stay starting on `check_in`: the check-in night's
    /// season decides, else the accommodation's own.
    pub fn min_stay_for(&self, check_in: Date) -> u32 {
        self.season_for(check_in)
            .and_then(|s| s.min_stay)
            .unwrap_or(self.min_stay)
    }

    pub fn is_weekend_night(&self, night: Date) -> bool {
        self.weekend_nights
            .iter()
            .any(|d| d.weekday() == night.weekday())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;

    pub(crate) fn input() -> AccommodationInput {
        AccommodationInput {
            name: "Cabaña del Bosque".into(),
            kind: Kind::Cabin,
            capacity: 4,
            base_price: Money::from_units(12_000),
            weekend_multiplier: None,
            weekend_nights: None,
            min_stay: None,
            seasons: vec![],
            active: None,
            description: None,
        }
    }

    #[test]
    fn fills_defaults() {
        let spec = input().validate().unwrap();
        assert_eq!(spec.weekend_multiplier, DEFAULT_WEEKEND_MULTIPLIER);
        assert_eq!(spec.weekend_nights, vec![Day::Friday, Day::Saturday]);
        assert_eq!(spec.min_stay, 1);
        assert!(spec.active);
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let mut i = input();
        i.capacity = 0;
        assert_eq!(i.validate().unwrap_err().field, "capacity");
        let mut i = input();
        i.name = "   ".into();
        assert_eq!(i.validate().unwrap_err().field, "name");
        let mut i = input();
        i.base_price = Money::ZERO;
        assert_eq!(i.validate().unwrap_err().field, "base_price");
        let mut i = input();
        i.min_stay = Some(0);
        assert_eq!(i.validate().unwrap_err().field, "min_stay");
        let mut i = input();
        i.weekend_multiplier = Some(Rate::from_basis_points(0));
        assert_eq!(i.validate().unwrap_err().field, "weekend_multiplier");
    }

    #[test]
    fn prices_and_multipliers_above_the_caps_are_refused_by_field() {
        let mut i = input();
        i.base_price = MAX_NIGHTLY_PRICE;
        i.weekend_multiplier = Some(MAX_WEEKEND_MULTIPLIER);
        assert!(i.validate().is_ok());
        let mut i = input();
        i.base_price = Money::from_cents(MAX_NIGHTLY_PRICE.cents() + 1);
        let err = i.validate().unwrap_err();
        assert_eq!(err.field, "base_price");
        assert!(err.reason.contains(&MAX_NIGHTLY_PRICE.to_string()), "{err}");
        let mut i = input();
        i.weekend_multiplier = Some(Rate::from_basis_points(100_001));
        assert_eq!(i.validate().unwrap_err().field, "weekend_multiplier");
        let mut i = input();
        let mut s = season(date(2025, 1, 1), date(2025, 2, 1));
        s.nightly_price = Money::from_cents(MAX_NIGHTLY_PRICE.cents() + 1);
        i.seasons = vec![s];
        assert_eq!(i.validate().unwrap_err().field, "seasons.nightly_price");
    }

    fn season(from: Date, to: Date) -> Season {
        Season {
            name: "Verano".into(),
            from,
            to,
            nightly_price: Money::from_units(20_000),
            min_stay: Some(3),
        }
    }

    #[test]
    fn refuses_overlapping_or_empty_seasons() {
        let mut i = input();
        i.seasons = vec![
            season(date(2025, 1, 1), date(2025, 2, 1)),
            season(date(2025, 1, 31), date(2025, 3, 1)),
        ];
        assert_eq!(i.validate().unwrap_err().field, "seasons");
        let mut i = input();
        i.seasons = vec![season(date(2025, 1, 1), date(2025, 1, 1))];
        assert_eq!(i.validate().unwrap_err().field, "seasons.to");
    }

    #[test]
    fn season_min_stay_applies_by_check_in_night() {
        let mut i = input();
        i.min_stay = Some(2);
        i.seasons = vec![season(date(2025, 1, 1), date(2025, 2, 1))];
        let spec = i.validate().unwrap();
        assert_eq!(spec.min_stay_for(date(2025, 1, 31)), 3);
        assert_eq!(spec.min_stay_for(date(2025, 2, 1)), 2);
    }
}
