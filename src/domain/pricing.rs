//! Nightly prices, weekend and season rules, totals and the deposit.

use jiff::civil::Date;
use serde::Serialize;

use super::accommodation::AccommodationSpec;
use super::dates::NightRange;
use super::money::{Money, Rate};

/// The price of one night and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NightPrice {
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "crate::domain::dates::serialize_date")]
    pub date: Date,
    #[schema(value_type = String, example = "18000.00")]
    pub price: Money,
    pub weekend: bool,
    /// Name of the season that set the base price, if any.
    pub season: Option<String>,
}

/// A priced stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Quote {
    pub nights: Vec<NightPrice>,
    pub total: Money,
    pub deposit: Money,
}

/// Prices every night of `range`: the season's nightly price (or the base price), times the
/// weekend multiplier on weekend nights; the deposit is `deposit_share` of the total.
pub fn quote(spec: &AccommodationSpec, range: &NightRange, deposit_share: Rate) -> Quote {
    let nights: Vec<NightPrice> = range.nights_iter().map(|d| night_price(spec, d)).collect();
    let total: Money = nights.iter().map(|n| n.price).sum();
    Quote {
        nights,
        total,
        deposit: total.times(deposit_share),
    }
}

fn night_price(spec: &AccommodationSpec, date: Date) -> NightPrice {
    let season = spec.season_for(date);
    let base = season.map_or(spec.base_price, |s| s.nightly_price);
    let weekend = spec.is_weekend_night(date);
    let price = if weekend {
        base.times(spec.weekend_multiplier)
    } else {
        base
    };
    NightPrice {
        date,
        price,
        weekend,
        season: season.map(|s| s.name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accommodation::tests::input;
    use crate::domain::accommodation::{Day, Season};
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn pricing_anchor_friday_to_monday() {
        let mut i = input();
        i.weekend_multiplier = Some("1.5".parse().unwrap());
        let spec = i.validate().unwrap();
        let range = NightRange::new(date(2025, 1, 3), date(2025, 1, 6)).unwrap();
        let q = quote(&spec, &range, Rate::percent(30));
        assert_eq!(q.total.to_string(), "48000.00");
        assert_eq!(q.deposit.to_string(), "14400.00");
        let prices: Vec<String> = q.nights.iter().map(|n| n.price.to_string()).collect();
        assert_eq!(prices, ["18000.00", "18000.00", "12000.00"]);
        assert_eq!(
            q.nights.iter().map(|n| n.weekend).collect::<Vec<_>>(),
            [true, true, false]
        );
    }

    #[test]
    fn weekend_nights_are_configurable() {
        let mut i = input();
        i.weekend_multiplier = Some("2".parse().unwrap());
        i.weekend_nights = Some(vec![Day::Sunday]);
        let spec = i.validate().unwrap();
        let range = NightRange::new(date(2025, 1, 3), date(2025, 1, 6)).unwrap();
        assert_eq!(
            quote(&spec, &range, Rate::percent(30)).total.to_string(),
            "48000.00"
        );
    }

    #[test]
    fn season_price_replaces_base_and_still_takes_the_weekend_multiplier() {
        let mut i = input();
        i.weekend_multiplier = Some("1.5".parse().unwrap());
        i.seasons = vec![Season {
            name: "Alta".into(),
            from: date(2025, 1, 4),
            to: date(2025, 1, 5),
            nightly_price: Money::from_units(20_000),
            min_stay: None,
        }];
        let spec = i.validate().unwrap();
        let range = NightRange::new(date(2025, 1, 3), date(2025, 1, 6)).unwrap();
        let q = quote(&spec, &range, Rate::percent(30));
        assert_eq!(q.nights[1].price.to_string(), "30000.00");
        assert_eq!(q.nights[1].season.as_deref(), Some("Alta"));
        assert_eq!(q.total.to_string(), "60000.00");
        assert_eq!(q.deposit.to_string(), "18000.00");
    }

    proptest! {
        #[test]
        fn total_is_the_sum_of_nights_and_deposit_never_exceeds_it(
            base in 1i64..10_000_000, start in 0i64..3000, len in 1i64..60, pct in 0u32..=100
        ) {
            let mut i = input();
            i.base_price = Money::from_cents(base);
            let spec = i.validate().unwrap();
            let check_in = date(2025, 1, 1).checked_add(jiff::Span::new().days(start)).unwrap();
            let check_out = check_in.checked_add(jiff::Span::new().days(len)).unwrap();
            let range = NightRange::new(check_in, check_out).unwrap();
            let q = quote(&spec, &range, Rate::percent(pct));
            prop_assert_eq!(q.nights.len() as i64, len);
            prop_assert_eq!(q.nights.iter().map(|n| n.price).sum::<Money>(), q.total);
            prop_assert!(q.deposit <= q.total);
            prop_assert!(q.nights.iter().all(|n| n.price >= spec.base_price));
        }
    }
}
