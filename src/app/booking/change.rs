//! Status changes of a reservation (confirm, cancel, no-show), counted and logged once for
//! every channel.

use super::Booking;
use crate::domain::booking::{ChangeError, ChangeRequest};
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Actor, Reservation, Status};
use crate::store::StoreError;

impl Booking {
    /// Moves reservation `code` to `to` for `actor`, if the rules allow it; confirmations and
    /// cancellations are counted.
    pub async fn change(
        &self,
        code: ReservationCode,
        to: Status,
        actor: Actor,
        reason: String,
    ) -> Result<Result<Reservation, ChangeError>, StoreError> {
        let reason_kind = match &actor {
            Actor::Guest => "guest",
            Actor::Admin { .. } => "host",
            Actor::System => "system",
        };
        let changed = self
            .store
            .change_status(code, ChangeRequest { to, actor, reason })
            .await?;
        if let Ok(r) = &changed {
            match to {
                Status::Confirmed => {
                    metrics::counter!("reservations_confirmed_total", "channel" => r.channel.as_str())
                        .increment(1)
                }
                Status::Cancelled => {
                    metrics::counter!("reservations_cancelled_total", "reason" => reason_kind)
                        .increment(1)
                }
                _ => {}
            }
            tracing::info!(code = %r.code, status = %r.status, "reservation status changed");
        }
        Ok(changed)
    }
}
