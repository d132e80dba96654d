//! Guests' live unpaid holds by client (phone, network) for the host, and cancelling all of
//! one client's holds in one action: what the host does against a flood the limits let in.

use jiff::Timestamp;

use super::Booking;
use crate::domain::booking::ChangeRequest;
use crate::domain::hold_limits::ClientKind;
use crate::domain::reservation::{Actor, Reservation, Status};
use crate::store::{ClientHolds, StoreError};

impl Booking {
    /// Guests' live unpaid holds grouped by phone and by network, most holds first.
    pub fn holds_by_client(&self, now: Timestamp) -> Result<Vec<ClientHolds>, StoreError> {
        self.store.holds_by_client(now)
    }

    /// Cancels every live unpaid hold of one client (a phone or a network) for the host, in
    /// one commit; returns the cancelled reservations.
    pub async fn cancel_client_holds(
        &self,
        kind: ClientKind,
        client: String,
        host_email: String,
    ) -> Result<Vec<Reservation>, StoreError> {
        let request = ChangeRequest {
            to: Status::Cancelled,
            actor: Actor::Admin { email: host_email },
            reason: format!(
                "all live holds of this {} cancelled by the host",
                kind.as_str()
            ),
        };
        let cancelled = self
            .store
            .cancel_client_holds(kind, client, request)
            .await?;
        metrics::counter!("reservations_cancelled_total", "reason" => "host")
            .increment(cancelled.len() as u64);
        tracing::info!(
            kind = kind.as_str(),
            cancelled = cancelled.len(),
            "host cancelled a client's live holds"
        );
        Ok(cancelled)
    }
}
