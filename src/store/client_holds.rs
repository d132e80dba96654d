//! Guests' live unpaid holds by client for the host, read from the hold-limit index
//! (`store/hold_limits.rs`), and the host's action against a flood: cancel all of one
//! client's holds in one commit.

use jiff::Timestamp;

use super::reservations::change;
use super::tables::RESERVATIONS;
use super::unreadable::decode_at;
use super::{Store, StoreError};
use crate::domain::booking::ChangeRequest;
use crate::domain::hold_limits::ClientKind;
use crate::domain::reservation::Reservation;

/// One client's live unpaid holds, as the host sees them.
#[derive(Debug, Clone)]
pub struct ClientHolds {
    pub kind: ClientKind,
    /// The phone (E.164) or the network (`203.0.113.9`, `2001:db8::/64`).
    pub client: String,
    pub holds: Vec<Reservation>,
}

impl Store {
    /// Guests' live unpaid holds grouped by phone and by network, the clients with the most
    /// holds first.
    pub fn holds_by_client(&self, now: Timestamp) -> Result<Vec<ClientHolds>, StoreError> {
        let mut groups: Vec<ClientHolds> = Vec::new();
        let live = self.live_holds.clients(now);
        self.read(|txn| {
            let reservations = txn.open_table(RESERVATIONS)?;
            for (key, code) in &live {
                let Some((kind, client)) = ClientKind::split(key) else {
                    continue;
                };
                let Some(r) = reservations.get(code.as_str())? else {
                    continue;
                };
                let decoded = decode_at(&RESERVATIONS, code.as_str(), r.value());
                let Some(r) = self.unreadable.skip::<Reservation>(decoded)? else {
                    continue;
                };
                match groups.last_mut() {
                    Some(g) if g.kind == kind && g.client == client => g.holds.push(r),
                    _ => groups.push(ClientHolds {
                        kind,
                        client: client.to_owned(),
                        holds: vec![r],
                    }),
                }
            }
            Ok(())
        })?;
        groups.sort_by_key(|g| std::cmp::Reverse(g.holds.len()));
        Ok(groups)
    }

    /// Cancels every live unpaid hold of one client in one commit (the host's action against
    /// a flood); returns the cancelled reservations.
    pub async fn cancel_client_holds(
        &self,
        kind: ClientKind,
        client: String,
        request: ChangeRequest,
    ) -> Result<Vec<Reservation>, StoreError> {
        let live = self.live_holds.clone();
        self.writer
            .write(move |txn| {
                let codes = live.live_codes(&kind.key(&client), Timestamp::now());
                let mut cancelled = Vec::new();
                for code in codes {
                    if let Ok(r) = change(txn, &code, request.clone())? {
                        cancelled.push(r);
                    }
                }
                Ok(cancelled)
            })
            .await
    }
}
