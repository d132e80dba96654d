//! The host's figures: reservations by status, this month's revenue and occupancy.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use super::dates::NightRange;
use super::money::Money;
use super::reservation::{Reservation, Status};

/// Counts, revenue and occupancy for the admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub counts: BTreeMap<String, u64>,
    /// `yyyy-mm` of the property's current month.
    pub month: String,
    /// Sum of the nightly prices of confirmed and completed nights in this month.
    #[schema(value_type = String)]
    pub revenue_this_month: Money,
    pub currency: String,
    /// Booked nights over available accommodation-nights this month, in percent.
    pub occupancy_percent: f64,
}

/// Adds reservations up, one at a time, into the [`Stats`] of the month of `today`.
pub struct Tally {
    month_start: Date,
    month: NightRange,
    counts: BTreeMap<String, u64>,
    revenue: Money,
    booked_nights: u64,
}

impl Tally {
    /// An empty tally for the month of `today` (the property's civil date).
    pub fn new(today: Date) -> Tally {
        let month_start = today.first_of_month();
        let month = NightRange::new(
            month_start,
            today.last_of_month().tomorrow().unwrap_or(today),
        )
        .expect("a month has nights");
        Tally {
            month_start,
            month,
            counts: Status::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), 0))
                .collect(),
            revenue: Money::ZERO,
            booked_nights: 0,
        }
    }

    /// Counts `r`, and its nights this month when it is confirmed or completed.
    pub fn add(&mut self, r: &Reservation) {
        *self.counts.entry(r.status.as_str().to_owned()).or_default() += 1;
        if matches!(r.status, Status::Confirmed | Status::Completed) {
            for n in r.nightly.iter().filter(|n| self.month.contains(n.date)) {
                self.revenue = self.revenue.checked_add(n.price).unwrap_or(self.revenue);
                self.booked_nights += 1;
            }
        }
    }

    /// The figures, with occupancy over `units` accommodations on sale.
    pub fn finish(self, units: u64, currency: &str) -> Stats {
        let capacity = units * u64::from(self.month.nights());
        let occupancy_percent = if capacity == 0 {
            0.0
        } else {
            (self.booked_nights as f64 * 10_000.0 / capacity as f64).round() / 100.0
        };
        Stats {
            counts: self.counts,
            month: format!(
                "{:04}-{:02}",
                self.month_start.year(),
                self.month_start.month()
            ),
            revenue_this_month: self.revenue,
            currency: currency.to_owned(),
            occupancy_percent,
        }
    }
}
