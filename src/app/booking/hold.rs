//! Taking a reservation: the atomic store path, the idempotency key (a retry gets the first
//! outcome, with the hold's current payment link), the booking metrics, and the payment link
//! of a new hold. A guest's access token is derived from the reservation code with the
//! store's key, so it is never stored: the store keeps its hash, a replay recomputes it.

use serde::{Deserialize, Serialize};

use super::Booking;
use crate::domain::booking::{NewReservation, ReserveError};
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Reservation, Status};
use crate::secret::{Keyed, sha256_hex};
use crate::store::{IdempotencyKey, Replay, StoreError};

/// A new reservation and the guest's access token (stored only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// Boxed: a reservation is large and most outcomes carry none.
    pub reservation: Box<Reservation>,
    pub access_token: String,
}

/// The first answer to a key, as versions before the application layer stored it: an HTTP
/// status and body (a JSON document, or a bare reservation code for WhatsApp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyResponse {
    pub status: u16,
    pub body: String,
}

/// What an idempotency key remembers of a hold request.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Remembered {
    /// The first outcome without the guest's token (recomputed from the code on a replay).
    Answered {
        answered: Result<Box<Reservation>, ReserveError>,
    },
    /// As versions before derived tokens stored it, token included (purged after
    /// `reservations.idempotency_ttl`).
    Outcome {
        first: Result<Created, ReserveError>,
    },
    Legacy(LegacyResponse),
}

/// The access token of reservation `code`'s guest: an HMAC of the code under the store's key
/// (`key`, keyed once: see [`Keyed`]), 24 bytes in hex like the random tokens of earlier
/// versions.
pub fn guest_token(key: &Keyed, code: &ReservationCode) -> String {
    key.hex_prefix(format!("guest-token:{code}").as_bytes(), 24)
}

/// What a retried request first got.
#[derive(Debug)]
pub enum First {
    /// The first outcome as it was answered, with the hold's current payment link.
    Outcome(Result<Created, ReserveError>),
    /// A key remembered by an earlier version: its first answer as it was sent.
    Legacy(LegacyResponse),
}

/// A retry of a request already answered.
#[derive(Debug)]
pub struct Replayed {
    pub first: First,
    /// The reservation the first request made, as it is now.
    pub current: Option<Reservation>,
}

/// The outcome of a hold request.
#[derive(Debug)]
pub enum Held {
    /// The request ran now (a new hold has its payment link when one could be made).
    Fresh(Result<Created, ReserveError>),
    /// The same key and request were seen before.
    Replayed(Box<Replayed>),
    /// The key was used before with a different request.
    KeyReused,
}

impl Booking {
    /// Takes a reservation through the one atomic path every channel shares: checked,
    /// priced and inserted in one commit (no double booking), counted in the booking metrics
    /// by channel, and a new hold gets its Mercado Pago link (one attempt, short budget; the
    /// hold stands without it). With `key`, a retry gets the first outcome instead.
    pub async fn hold(
        &self,
        req: NewReservation,
        key: Option<IdempotencyKey>,
    ) -> Result<Held, StoreError> {
        let channel = req.channel.as_str();
        let token_key = self.token_key.clone();
        let reserved = self
            .store
            .reserve(
                req,
                self.policy(),
                move |code| sha256_hex(&guest_token(&token_key, code)),
                key,
                |o| {
                    // A limit refusal lasts only until a hold lapses: a retry runs again.
                    let limited = matches!(o, Err(ReserveError::Limited(_)));
                    (!limited).then(|| Remembered::Answered {
                        answered: o.clone().map(Box::new),
                    })
                },
            )
            .await;
        let replay = match reserved {
            Ok(replay) => replay,
            Err(e) => {
                if matches!(
                    e,
                    StoreError::Busy | StoreError::LockTimeout | StoreError::BatchAborted
                ) {
                    metrics::counter!("reservations_lock_failed_total", "channel" => channel)
                        .increment(1);
                }
                return Err(e);
            }
        };
        Ok(match replay {
            Replay::Fresh(outcome) => {
                count(channel, &outcome);
                let mut outcome = outcome.map(|reservation| self.created(Box::new(reservation)));
                if let Ok(c) = &mut outcome
                    && let Some(linked) = self.payments.link_for_new_hold(&c.reservation).await
                {
                    *c.reservation = linked;
                }
                Held::Fresh(outcome)
            }
            Replay::Stored(Remembered::Answered { answered }) => {
                let first = answered.map(|r| self.created(r));
                Held::Replayed(Box::new(self.replayed(first)?))
            }
            Replay::Stored(Remembered::Outcome { first }) => {
                Held::Replayed(Box::new(self.replayed(first)?))
            }
            Replay::Stored(Remembered::Legacy(first)) => {
                let current = match ReservationCode::parse(&first.body) {
                    Some(code) if first.status == 201 => self.store.reservation(&code)?,
                    _ => None,
                };
                Held::Replayed(Box::new(Replayed {
                    first: First::Legacy(first),
                    current,
                }))
            }
            Replay::KeyReused => Held::KeyReused,
        })
    }

    /// A first outcome with the hold's current state and payment link (made after the first
    /// answer was remembered).
    fn replayed(&self, mut first: Result<Created, ReserveError>) -> Result<Replayed, StoreError> {
        let current = match &first {
            Ok(c) => self.store.reservation(&c.reservation.code)?,
            Err(_) => None,
        };
        if let (Ok(c), Some(now)) = (&mut first, &current)
            && self.payments.is_configured()
            && c.reservation.payment.payment_url.is_none()
            && now.status == Status::PreReserved
        {
            c.reservation.payment.payment_url = now.payment.payment_url.clone();
        }
        Ok(Replayed {
            first: First::Outcome(first),
            current,
        })
    }
}

impl Booking {
    /// A reservation with its guest's access token.
    fn created(&self, reservation: Box<Reservation>) -> Created {
        Created {
            access_token: guest_token(&self.token_key, &reservation.code),
            reservation,
        }
    }
}

/// The booking funnel's counters and log line for a request that ran.
fn count(channel: &'static str, outcome: &Result<Reservation, ReserveError>) {
    match outcome {
        Ok(r) => {
            metrics::counter!("reservations_created_total", "channel" => channel).increment(1);
            if r.status == Status::Confirmed {
                metrics::counter!("reservations_confirmed_total", "channel" => channel)
                    .increment(1);
            }
            tracing::info!(code = %r.code, status = %r.status, "reservation created");
        }
        Err(ReserveError::DateOverlap) => {
            metrics::counter!("reservations_date_overlap_total", "channel" => channel).increment(1);
        }
        Err(ReserveError::Limited(refused)) => {
            let reason = refused.reason();
            metrics::counter!("reservations_hold_limited_total", "channel" => channel, "reason" => reason)
                .increment(1);
            tracing::info!(channel, reason, "guest hold refused by a hold limit");
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stay::StayError;

    #[test]
    fn keys_remembered_by_the_previous_version_still_replay() {
        let legacy = r#"{"status":409,"body":"{\"error\":\"date_overlap\",\"detail\":\"x\"}"}"#;
        let Remembered::Legacy(first) = serde_json::from_str(legacy).unwrap() else {
            panic!("an HTTP answer stored before is read as one")
        };
        assert_eq!(first.status, 409);
        let whatsapp = r#"{"status":201,"body":"RES261206520A1F"}"#;
        assert!(matches!(
            serde_json::from_str(whatsapp).unwrap(),
            Remembered::Legacy(LegacyResponse { status: 201, .. })
        ));
        let now = Remembered::Outcome {
            first: Err(ReserveError::Stay(StayError::TooLong { max: 30 })),
        };
        let text = serde_json::to_string(&now).unwrap();
        let Remembered::Outcome { first } = serde_json::from_str(&text).unwrap() else {
            panic!("an outcome is read back as one")
        };
        assert_eq!(
            first,
            Err(ReserveError::Stay(StayError::TooLong { max: 30 }))
        );
    }
}
