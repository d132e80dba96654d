//! Reservations: statuses, legal transitions and their audit trail.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::availability::Occupancy;
use super::contact::Contact;
use super::dates::NightRange;
use super::hold_limits::HoldClient;
use super::ids::{AccommodationId, ReservationCode};
use super::money::Money;
use super::payment::PaymentSummary;
use super::pricing::NightPrice;

/// Where a reservation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    PreReserved,
    Confirmed,
    Cancelled,
    Expired,
    Completed,
    NoShow,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::PreReserved,
        Status::Confirmed,
        Status::Cancelled,
        Status::Expired,
        Status::Completed,
        Status::NoShow,
    ];

    /// The legal moves: pre_reserved → confirmed | cancelled | expired;
    /// confirmed → cancelled | completed | no_show. Nothing leaves the other states.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (PreReserved, Confirmed | Cancelled | Expired)
                | (Confirmed, Cancelled | Completed | NoShow)
        )
    }

    /// Whether a reservation in this state may hold dates.
    pub fn holds_dates(self) -> bool {
        matches!(self, Status::PreReserved | Status::Confirmed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PreReserved => "pre_reserved",
            Status::Confirmed => "confirmed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a reservation reached us. Bounded, so it can label metrics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Web,
    Whatsapp,
    Email,
    Phone,
    WalkIn,
    Admin,
    Other,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::WalkIn => "walk_in",
            Channel::Admin => "admin",
            Channel::Other => "other",
        }
    }
}

/// Who did something to a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Guest,
    Admin { email: String },
    System,
}

/// One line of a reservation's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub from: Option<Status>,
    pub to: Status,
    pub actor: Actor,
    pub reason: String,
}

/// A booking (or hold) of one accommodation by one guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub code: ReservationCode,
    pub accommodation_id: AccommodationId,
    pub range: NightRange,
    pub guests: u32,
    pub contact: Contact,
    pub channel: Channel,
    pub status: Status,
    pub nightly: Vec<NightPrice>,
    pub total: Money,
    pub deposit: Money,
    pub currency: String,
    pub created_at: Timestamp,
    /// When a hold lapses; `None` for reservations created confirmed.
    pub expires_at: Option<Timestamp>,
    /// SHA-256 (hex) of the guest's access token.
    pub access_token_sha256: String,
    pub history: Vec<AuditEntry>,
    /// Payment link and what was paid.
    #[serde(default)]
    pub payment: PaymentSummary,
    /// Who took it, for a guest's hold (counted against the hold limits while it is live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_client: Option<HoldClient>,
}

/// A transition that the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} reservation cannot become {to}")]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
}

impl Reservation {
    /// The nights it may hold, if its status holds any.
    pub fn occupancy(&self) -> Option<Occupancy> {
        self.status.holds_dates().then_some(Occupancy {
            range: self.range,
            hold_expires_at: match self.status {
                Status::PreReserved => self.expires_at,
                _ => None,
            },
        })
    }

    /// Moves to `to` if legal and records who did it and why.
    pub fn transition(
        &mut self,
        to: Status,
        actor: Actor,
        reason: impl Into<String>,
        now: Timestamp,
    ) -> Result<(), IllegalTransition> {
        if !self.status.can_become(to) {
            return Err(IllegalTransition {
                from: self.status,
                to,
            });
        }
        self.history.push(AuditEntry {
            at: now,
            from: Some(self.status),
            to,
            actor,
            reason: reason.into(),
        });
        self.status = to;
        Ok(())
    }
}

impl Reservation {
    /// Confirms a hold that lapsed because its deposit arrived late (the only way out of
    /// `expired`); the caller has checked that its dates are still free.
    pub fn confirm_late_payment(
        &mut self,
        reason: impl Into<String>,
        now: Timestamp,
    ) -> Result<(), IllegalTransition> {
        if self.status != Status::Expired {
            return self.transition(Status::Confirmed, Actor::System, reason, now);
        }
        self.history.push(AuditEntry {
            at: now,
            from: Some(Status::Expired),
            to: Status::Confirmed,
            actor: Actor::System,
            reason: reason.into(),
        });
        self.status = Status::Confirmed;
        Ok(())
    }
}

/// Why a payment link could not be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("no reservation with that code")]
    NotFound,
    #[error("only a live hold can be paid (this one is {0})")]
    NotAHold(Status),
}

impl Reservation {
    /// Keeps the Checkout Pro link of a hold, made for its current expiry `made_for`.
    pub fn attach_payment_link(
        &mut self,
        preference_id: String,
        url: String,
        made_for: Option<Timestamp>,
    ) -> Result<(), LinkError> {
        if self.status != Status::PreReserved {
            return Err(LinkError::NotAHold(self.status));
        }
        self.payment.preference_id = Some(preference_id);
        self.payment.payment_url = Some(url);
        self.payment.link_expires_at = made_for;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn only_the_documented_transitions_are_legal() {
        use Status::*;
        let legal = [
            (PreReserved, Confirmed),
            (PreReserved, Cancelled),
            (PreReserved, Expired),
            (Confirmed, Cancelled),
            (Confirmed, Completed),
            (Confirmed, NoShow),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    pub(crate) fn hold(now: Timestamp) -> Reservation {
        Reservation {
            code: ReservationCode::parse("RES250101000001").unwrap(),
            accommodation_id: AccommodationId::new(1),
            range: NightRange::new(date(2025, 1, 3), date(2025, 1, 6)).unwrap(),
            guests: 2,
            contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
            channel: Channel::Web,
            status: Status::PreReserved,
            nightly: vec![],
            total: Money::from_units(48_000),
            deposit: Money::from_units(14_400),
            currency: "ARS".into(),
            created_at: now,
            expires_at: Some(now + jiff::SignedDuration::from_mins(30)),
            access_token_sha256: String::new(),
            history: vec![],
            payment: PaymentSummary::default(),
            hold_client: None,
        }
    }

    #[test]
    fn only_a_late_payment_revives_an_expired_hold() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        r.transition(Status::Expired, Actor::System, "lapsed", now)
            .unwrap();
        assert!(
            r.transition(Status::Confirmed, Actor::System, "", now)
                .is_err()
        );
        r.confirm_late_payment("deposit paid late", now).unwrap();
        assert_eq!(r.status, Status::Confirmed);
        assert_eq!(r.history.last().unwrap().from, Some(Status::Expired));
        let mut cancelled = hold(now);
        cancelled
            .transition(Status::Cancelled, Actor::Guest, "", now)
            .unwrap();
        assert!(cancelled.confirm_late_payment("late", now).is_err());
    }

    #[test]
    fn transitions_are_audited_and_illegal_ones_change_nothing() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        r.transition(Status::Confirmed, Actor::System, "deposit paid", now)
            .unwrap();
        let err = r
            .transition(Status::Expired, Actor::System, "late", now)
            .unwrap_err();
        assert_eq!(err.from, Status::Confirmed);
        assert_eq!(r.status, Status::Confirmed);
        assert_eq!(r.history.len(), 1);
        assert_eq!(r.history[0].reason, "deposit paid");
        assert_eq!(r.history[0].from, Some(Status::PreReserved));
    }

    #[test]
    fn a_lapsed_hold_stops_blocking_but_a_confirmed_stay_does_not() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        let mut r = hold(now);
        let later = now + jiff::SignedDuration::from_mins(31);
        let blocking = |r: &Reservation, at| r.occupancy().is_some_and(|o| o.is_live(at));
        assert!(blocking(&r, now));
        assert!(!blocking(&r, later));
        r.transition(Status::Confirmed, Actor::System, "", now)
            .unwrap();
        assert!(blocking(&r, later));
        r.transition(Status::Cancelled, Actor::System, "", now)
            .unwrap();
        assert!(!blocking(&r, now));
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn terminal_states_never_change_and_every_move_is_audited(moves in prop::collection::vec(any_status(), 0..20)) {
            let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
            let mut r = hold(now);
            let mut applied = 0;
            for to in moves {
                let before = r.status;
                let ok = r.transition(to, Actor::System, "", now).is_ok();
                prop_assert_eq!(ok, before.can_become(to));
                if !before.holds_dates() { prop_assert_eq!(r.status, before); }
                if ok {
                    applied += 1;
                    let last = r.history.last().unwrap();
                    prop_assert_eq!((last.from, last.to), (Some(before), to));
                }
            }
            prop_assert_eq!(r.history.len(), applied);
        }
    }
}
