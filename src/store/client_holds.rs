//! Guests' live unpaid holds by client for the host, and the host's action against a flood:
//! cancel all of one client's holds in one commit. The host's view reads the hold-expiry
//! table, which lists every unexpired hold, with each hold's client on its record (a host has
//! tens of live holds; a flood is bounded by the hold limits). Cancelling, which runs in the
//! writer, takes the client's holds from the in-memory index (`store/hold_limits.rs`) when the
//! limits keep its lists by client, and reads the table otherwise.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::hold_limits::each_live_guest_hold;
use super::reservations::change;
use super::tables::{HOLD_EXPIRY, RESERVATIONS};
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
        let mut groups: BTreeMap<String, ClientHolds> = BTreeMap::new();
        self.read(|txn| {
            let expiry = txn.open_table(HOLD_EXPIRY)?;
            let reservations = txn.open_table(RESERVATIONS)?;
            each_live_guest_hold(&expiry, &reservations, &self.unreadable, now, |r| {
                let keys = r.hold_client.as_ref().map(|c| c.keys()).unwrap_or_default();
                for (kind, key) in keys {
                    let Some((_, client)) = ClientKind::split(&key) else {
                        continue;
                    };
                    let client = client.to_owned();
                    groups
                        .entry(key)
                        .or_insert_with(|| ClientHolds {
                            kind,
                            client,
                            holds: vec![],
                        })
                        .holds
                        .push(r.clone());
                }
            })
        })?;
        let mut groups: Vec<ClientHolds> = groups.into_values().collect();
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
        let (unreadable, live) = (self.unreadable.clone(), self.live_holds.clone());
        let archive = self.archive.clone();
        self.writer
            .write(move |txn| {
                let wanted = kind.key(&client);
                let listed = live.live_codes(&wanted, Timestamp::now());
                let codes: Vec<String> = if let Some(codes) = listed {
                    codes
                } else {
                    let expiry = txn.open_table(HOLD_EXPIRY)?;
                    let reservations = txn.open_table(RESERVATIONS)?;
                    let mut codes = Vec::new();
                    each_live_guest_hold(
                        &expiry,
                        &reservations,
                        &unreadable,
                        Timestamp::now(),
                        |r| {
                            let keys = r.hold_client.as_ref().map(|c| c.keys()).unwrap_or_default();
                            if keys.iter().any(|(_, k)| *k == wanted) {
                                codes.push(r.code.to_string());
                            }
                        },
                    )?;
                    codes
                };
                let mut cancelled = Vec::new();
                for code in codes {
                    if let Ok(r) = change(txn, &archive, &code, request.clone())? {
                        cancelled.push(r);
                    }
                }
                Ok(cancelled)
            })
            .await
    }
}
