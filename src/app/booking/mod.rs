//! Booking: quotes, availability, holds (with idempotency, the booking metrics and the payment
//! link), status changes (confirm, cancel, no-show) and owner blocks. Every channel (public
//! API, admin API and web UI, WhatsApp, and the guest site to come) books through here.

mod blocks;
mod change;
mod clients;
mod hold;

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;

pub use blocks::BlockRefused;
pub use hold::{Created, First, Held, LegacyResponse, Replayed, guest_token};

use super::payments::Payments;
use crate::config::Settings;
use crate::domain::accommodation::Accommodation;
use crate::domain::availability::{self, DayAvailability};
use crate::domain::booking::ReservePolicy;
use crate::domain::dates::{NightRange, local_today};
use crate::domain::ids::{AccommodationId, ReservationCode};
use crate::domain::pricing;
use crate::domain::reservation::Reservation;
use crate::domain::stats::{Stats, Tally};
use crate::domain::stay::{StayError, StayLimits, validate_stay};
use crate::secret::{Keyed, matches_sha256};
use crate::store::{SkipUnreadable, Store, StoreError};

/// The booking use cases; cheap to clone.
#[derive(Clone)]
pub struct Booking {
    store: Store,
    settings: Arc<Settings>,
    payments: Payments,
    /// The store's key for guests' access tokens.
    token_key: Arc<Keyed>,
}

/// A priced stay at one accommodation, and whether its dates are free.
#[derive(Debug, Clone)]
pub struct Quote {
    pub accommodation: Accommodation,
    pub range: NightRange,
    pub guests: u32,
    pub price: pricing::Quote,
    pub available: bool,
}

/// Why a stay could not be quoted.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    #[error("no active accommodation with that id")]
    AccommodationNotFound,
    #[error(transparent)]
    Stay(#[from] StayError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Booking {
    pub fn new(store: Store, settings: Arc<Settings>, payments: Payments) -> Booking {
        Booking {
            token_key: Arc::new(Keyed::new(store.guest_token_key())),
            store,
            settings,
            payments,
        }
    }

    /// The hold policy from the configuration (the same for every channel).
    pub fn policy(&self) -> ReservePolicy {
        ReservePolicy {
            time_zone: self.settings.time_zone.clone(),
            hold: self.settings.hold_duration,
            deposit_share: self.settings.deposit_share,
            currency: self.settings.currency.clone(),
            max_nights: self.settings.max_nights,
            limits: self.settings.hold_limits,
        }
    }

    /// The property's civil date at `now`.
    pub fn today(&self, now: Timestamp) -> Date {
        local_today(now, &self.settings.time_zone)
    }

    fn limits(&self, now: Timestamp) -> StayLimits {
        StayLimits {
            today: self.today(now),
            max_nights: self.settings.max_nights,
        }
    }

    /// An accommodation on sale with what holds its nights in `window`.
    fn on_sale(
        &self,
        id: AccommodationId,
        window: NightRange,
    ) -> Result<Option<(Accommodation, Vec<availability::Occupancy>)>, StoreError> {
        Ok(self
            .store
            .accommodation_with_occupancy(id, window)?
            .filter(|(a, _)| a.spec.active))
    }

    /// Prices a stay at accommodation `id` night by night and says whether it is free.
    pub fn quote(
        &self,
        id: AccommodationId,
        (check_in, check_out): (Date, Date),
        guests: u32,
        now: Timestamp,
    ) -> Result<Quote, QuoteError> {
        let window = NightRange::new(check_in, check_out).map_err(|_| StayError::InvalidDates)?;
        let (accommodation, taken) = self
            .on_sale(id, window)?
            .ok_or(QuoteError::AccommodationNotFound)?;
        let range = validate_stay(
            &accommodation.spec,
            check_in,
            check_out,
            guests,
            self.limits(now),
        )?;
        let price = pricing::quote(&accommodation.spec, &range, self.settings.deposit_share);
        Ok(Quote {
            available: availability::is_free(&range, &taken, now),
            accommodation,
            range,
            guests,
            price,
        })
    }

    /// The accommodations on sale that take `guests` and are free for the stay, priced.
    pub fn offers(
        &self,
        dates: (Date, Date),
        guests: u32,
        now: Timestamp,
    ) -> Result<Vec<Quote>, StoreError> {
        let mut offers = Vec::new();
        for acc in self.store.accommodations()? {
            if !acc.spec.active {
                continue;
            }
            match self.quote(acc.id, dates, guests, now) {
                Ok(q) if q.available => offers.push(q),
                Ok(_) | Err(QuoteError::AccommodationNotFound | QuoteError::Stay(_)) => {}
                Err(QuoteError::Store(e)) => return Err(e),
            }
        }
        Ok(offers)
    }

    /// Which nights of `window` are free at accommodation `id`; `None` when it is not on sale.
    pub fn calendar(
        &self,
        id: AccommodationId,
        window: NightRange,
        now: Timestamp,
    ) -> Result<Option<Vec<DayAvailability>>, StoreError> {
        Ok(self
            .on_sale(id, window)?
            .map(|(_, taken)| availability::daily(&window, &taken, now)))
    }

    /// Reservations by status, this month's revenue and occupancy over the accommodations
    /// on sale.
    pub fn stats(&self, now: Timestamp) -> Result<Stats, StoreError> {
        let units = self
            .store
            .accommodations()?
            .iter()
            .filter(|a| a.spec.active)
            .count() as u64;
        let mut tally = Tally::new(self.today(now));
        self.store.each_reservation(|r| tally.add(&r))?;
        Ok(tally.finish(units, &self.settings.currency))
    }

    /// Reservation `code`, as the host sees it.
    pub fn reservation(&self, code: &ReservationCode) -> Result<Option<Reservation>, StoreError> {
        self.store.reservation(code)
    }

    /// Reservation `code` if `access_token` is its guest's (compared in constant time);
    /// `None` for a wrong token, an unknown code and an unreadable record alike (the token
    /// cannot be checked against it, and the code's existence is never revealed).
    pub fn for_guest(
        &self,
        code: &ReservationCode,
        access_token: &str,
    ) -> Result<Option<Reservation>, StoreError> {
        Ok(self
            .store
            .reservation(code)
            .skip_unreadable()?
            .filter(|r| matches_sha256(access_token, &r.access_token_sha256)))
    }
}
