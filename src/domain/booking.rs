//! The rules of taking a reservation and of changing its status: the request, the property's
//! policy, why either is refused, the new hold (priced, with its first audit entry and the
//! event it raises), and who may move a reservation where. Pure: the store loads, saves and
//! answers whether dates are free.

use std::net::IpAddr;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::accommodation::Accommodation;
use super::contact::Contact;
use super::dates::{NightRange, local_today};
use super::events::{Audience, DomainEvent, EventKind};
use super::hold_limits::{HoldClient, HoldLimits, HoldRefusal, network_key};
use super::ids::{AccommodationId, ReservationCode};
use super::money::Rate;
use super::pricing::quote;
use super::reservation::{Actor, AuditEntry, Channel, IllegalTransition, Reservation, Status};
use super::stay::{StayError, StayLimits, validate_stay};

/// What the property's configuration says about new reservations.
#[derive(Debug, Clone)]
pub struct ReservePolicy {
    pub time_zone: TimeZone,
    pub hold: Duration,
    pub deposit_share: Rate,
    pub currency: String,
    pub max_nights: u32,
    /// Limits on guests' unpaid holds (the host's are never limited).
    pub limits: HoldLimits,
}

/// A request for a reservation, already parsed (dates, contact) but not yet checked against
/// the accommodation.
#[derive(Debug, Clone)]
pub struct NewReservation {
    pub accommodation_id: AccommodationId,
    pub check_in: Date,
    pub check_out: Date,
    pub guests: u32,
    pub contact: Contact,
    pub channel: Channel,
    /// Manual bookings (taken by phone) may start confirmed instead of as a hold.
    pub confirmed: bool,
    pub actor: Actor,
    pub note: String,
    /// The client's address, when the channel has one (the web); with the phone, it is
    /// whom a guest's hold counts against.
    pub client_address: Option<IpAddr>,
}

/// Why a reservation could not be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ReserveError {
    #[error("no active accommodation with that id")]
    AccommodationNotFound,
    #[error(transparent)]
    Stay(#[from] StayError),
    #[error("the dates overlap another stay")]
    DateOverlap,
    #[error(transparent)]
    Limited(#[from] HoldRefusal),
}

impl NewReservation {
    /// The nights the request would hold, if `acc` (the accommodation it names, when it
    /// exists) can take it: active, and the stay meets its rules at the property's today.
    pub fn check(
        &self,
        acc: Option<&Accommodation>,
        policy: &ReservePolicy,
        now: Timestamp,
    ) -> Result<NightRange, ReserveError> {
        let acc = acc
            .filter(|a| a.spec.active)
            .ok_or(ReserveError::AccommodationNotFound)?;
        let limits = StayLimits {
            today: local_today(now, &policy.time_zone),
            max_nights: policy.max_nights,
        };
        Ok(validate_stay(
            &acc.spec,
            self.check_in,
            self.check_out,
            self.guests,
            limits,
        )?)
    }

    /// Whom the hold counts against, when the hold limits apply to it: a guest's unpaid
    /// hold (the host's holds and bookings are exempt).
    pub fn hold_client(&self) -> Option<HoldClient> {
        (self.actor == Actor::Guest && !self.confirmed).then(|| HoldClient {
            phone: self.contact.phone().to_owned(),
            address: self.client_address.map(network_key),
        })
    }
}

impl Reservation {
    /// The reservation for a request [`NewReservation::check`] accepted on free dates:
    /// priced, held until the hold lapses (or confirmed at once), with its first audit entry;
    /// and the event it raises (a guest's booking tells the host).
    pub fn new_hold(
        req: NewReservation,
        acc: &Accommodation,
        range: NightRange,
        policy: &ReservePolicy,
        (code, access_token_sha256): (ReservationCode, String),
        now: Timestamp,
    ) -> (Reservation, Option<DomainEvent>) {
        let priced = quote(&acc.spec, &range, policy.deposit_share);
        let (status, expires_at) = if req.confirmed {
            (Status::Confirmed, None)
        } else {
            let hold =
                SignedDuration::try_from(policy.hold).unwrap_or(SignedDuration::from_mins(30));
            (Status::PreReserved, Some(now + hold))
        };
        let by_guest = req.actor == Actor::Guest;
        let hold_client = req.hold_client();
        let reservation = Reservation {
            code,
            accommodation_id: acc.id,
            range,
            guests: req.guests,
            contact: req.contact,
            channel: req.channel,
            status,
            nightly: priced.nights,
            total: priced.total,
            deposit: priced.deposit,
            currency: policy.currency.clone(),
            created_at: now,
            expires_at,
            access_token_sha256,
            history: vec![AuditEntry {
                at: now,
                from: None,
                to: status,
                actor: req.actor,
                reason: req.note,
            }],
            payment: Default::default(),
            hold_client,
        };
        let event = by_guest.then(|| {
            DomainEvent::new(
                EventKind::NewBooking,
                Audience::Host,
                Some(reservation.code.to_string()),
                now,
            )
        });
        (reservation, event)
    }
}

/// A status change and who asks for it.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    pub to: Status,
    pub actor: Actor,
    pub reason: String,
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("no reservation with that code")]
    NotFound,
    #[error("a {from} reservation cannot become {to}")]
    InvalidState { from: Status, to: Status },
    #[error("the dates were taken after the hold lapsed")]
    DateOverlap,
    #[error("a confirmed booking can only be cancelled by the host")]
    RequiresHost,
}

impl From<IllegalTransition> for ChangeError {
    fn from(e: IllegalTransition) -> Self {
        ChangeError::InvalidState {
            from: e.from,
            to: e.to,
        }
    }
}

impl Reservation {
    /// Applies `req` if the rules allow it: a legal move, a guest never cancels a confirmed
    /// stay (the host does), and a confirmation needs the dates still free (`dates_free`,
    /// asked on every confirmation, not only for lapsed holds, so a wall clock that stepped
    /// back cannot double-book).
    pub fn change<E>(
        &mut self,
        req: ChangeRequest,
        now: Timestamp,
        dates_free: impl FnOnce(&Reservation) -> Result<bool, E>,
    ) -> Result<Result<(), ChangeError>, E> {
        if !self.status.can_become(req.to) {
            return Ok(Err(ChangeError::InvalidState {
                from: self.status,
                to: req.to,
            }));
        }
        if req.actor == Actor::Guest
            && req.to == Status::Cancelled
            && self.status == Status::Confirmed
        {
            return Ok(Err(ChangeError::RequiresHost));
        }
        if req.to == Status::Confirmed && !dates_free(self)? {
            return Ok(Err(ChangeError::DateOverlap));
        }
        Ok(self
            .transition(req.to, req.actor, req.reason, now)
            .map_err(ChangeError::from))
    }

    /// Moves a hold whose time is up to `expired`; the host hears of it.
    pub fn expire(&mut self, now: Timestamp) -> Result<DomainEvent, IllegalTransition> {
        self.transition(
            Status::Expired,
            Actor::System,
            "hold lapsed without payment",
            now,
        )?;
        Ok(DomainEvent::new(
            EventKind::HoldExpired,
            Audience::Host,
            Some(self.code.to_string()),
            now,
        ))
    }

    /// Marks a confirmed stay whose check-out day came as completed.
    pub fn complete(&mut self, now: Timestamp) -> Result<(), IllegalTransition> {
        self.transition(
            Status::Completed,
            Actor::System,
            "check-out day reached",
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reservation::tests::hold;

    fn free(_: &Reservation) -> Result<bool, ()> {
        Ok(true)
    }

    fn taken(_: &Reservation) -> Result<bool, ()> {
        Ok(false)
    }

    fn request(to: Status, actor: Actor) -> ChangeRequest {
        ChangeRequest {
            to,
            actor,
            reason: "why".into(),
        }
    }

    #[test]
    fn a_guest_cancels_a_hold_but_not_a_confirmed_stay() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        r.status = Status::Confirmed;
        let refused = r.change(request(Status::Cancelled, Actor::Guest), now, free);
        assert_eq!(refused, Ok(Err(ChangeError::RequiresHost)));
        let host = Actor::Admin {
            email: "h@x.com".into(),
        };
        assert_eq!(
            r.change(request(Status::Cancelled, host), now, free),
            Ok(Ok(()))
        );
        let mut h = hold(now);
        assert_eq!(
            h.change(request(Status::Cancelled, Actor::Guest), now, free),
            Ok(Ok(()))
        );
        assert_eq!(h.history.last().unwrap().reason, "why");
    }

    #[test]
    fn a_confirmation_needs_free_dates_and_a_legal_move() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        let system = || request(Status::Confirmed, Actor::System);
        assert_eq!(
            r.change(system(), now, taken),
            Ok(Err(ChangeError::DateOverlap))
        );
        assert_eq!(r.status, Status::PreReserved);
        assert_eq!(r.change(system(), now, free), Ok(Ok(())));
        assert_eq!(
            r.change(request(Status::Expired, Actor::System), now, free),
            Ok(Err(ChangeError::InvalidState {
                from: Status::Confirmed,
                to: Status::Expired
            }))
        );
    }

    #[test]
    fn a_lapsed_hold_expires_once_and_tells_the_host() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        let event = r.expire(now).unwrap();
        assert_eq!(
            (event.kind, event.audience),
            (EventKind::HoldExpired, Audience::Host)
        );
        assert_eq!(r.status, Status::Expired);
        assert!(r.expire(now).is_err());
        assert!(r.complete(now).is_err());
    }
}
