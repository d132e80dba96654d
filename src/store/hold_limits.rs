//! The index behind the hold limits: guests' live unpaid holds by client (phone, network) and
//! by accommodation, so a new hold's check reads a handful of entries inside the writer's
//! transaction instead of every reservation. The rules are `domain::hold_limits`.
//!
//! The index is kept in memory, not in tables. It only ever lists unexpired holds, which the
//! hold-expiry table also lists, so it is rebuilt from that table when the store opens
//! ([`LiveHolds::rebuild`]). Kept in two tables it cost each hold three more B-tree inserts and
//! their dirty pages, all on the single writer thread: a fifth to a quarter of the holds per
//! second (`bench/run.sh`, 2026-12-06). It changes only on the writer thread, inside a batch:
//! each change is journaled and undone when the batch does not commit ([`LiveHolds::settle`]),
//! so the index is what is committed plus the running batch, as a table would be.
//!
//! It keeps only what the configured limits check ([`LiveHolds::keep_only_for`]): with no
//! client limit there is no list by client, with no share cap no list by night. A listing costs
//! about 145 bytes per live hold; the 15-second bench/run.sh run, which turns the limits off to
//! take 200,000 holds from one client, peaked at 82-87 MB with the lists and 52 MB without.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use redb::{ReadTransaction, ReadableTable};

use super::StoreError;
use super::tables::{HOLD_EXPIRY, RESERVATIONS};
use super::unreadable::{Unreadable, decode_at};
use crate::domain::dates::{NightRange, date_from_key, date_key};
use crate::domain::hold_limits::{ClientKind, HoldClient, HoldLimits, HoldRefusal, nights_within};
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Reservation, Status};

/// A live hold under a client key: (expiry in ms, [`packed`] code).
type ClientHold = (i64, u64);
/// (accommodation, check-in key, [`packed`] code) → (check-out key, expiry in ms).
type NightKey = (u64, i32, u64);
type NightVal = (i32, i64);

/// Guests' live unpaid holds; shared by the store (reads) and its writer thread (changes).
/// About 145 bytes per live hold with every limit on (a host has tens).
#[derive(Default)]
pub struct LiveHolds(Mutex<State>);

#[derive(Default)]
struct State {
    /// By `phone:<E.164>` or `address:<network>` key.
    clients: BTreeMap<String, BTreeSet<ClientHold>>,
    nights: BTreeMap<NightKey, NightVal>,
    /// What the running batch changed, to undo if it does not commit: each entry's state
    /// before the change.
    journal: Vec<Undo>,
    /// Lists no limit reads, so not kept.
    unused: Unused,
}

#[derive(Default, Clone, Copy)]
struct Unused {
    clients: bool,
    nights: bool,
}

enum Undo {
    Client(String, ClientHold, bool),
    Night(NightKey, Option<NightVal>),
}

/// A reservation code (`RES`, six digits, six hex digits) as a number, and back.
fn packed(code: &ReservationCode) -> u64 {
    let s = code.as_str();
    let digits: u64 = s[3..9].parse().unwrap_or(0);
    let random = u64::from_str_radix(&s[9..], 16).unwrap_or(0);
    (digits << 24) | random
}

fn unpacked(code: u64) -> String {
    format!("RES{:06}{:06X}", code >> 24, code & 0xFF_FFFF)
}

/// Calls `f` with each guest's unpaid hold live at `now` (those with a client), in the
/// hold-expiry table's order.
pub(super) fn each_live_guest_hold(
    expiry: &impl ReadableTable<(i64, &'static str), ()>,
    reservations: &impl ReadableTable<&'static str, &'static [u8]>,
    unreadable: &Unreadable,
    now: Timestamp,
    mut f: impl FnMut(Reservation),
) -> Result<(), StoreError> {
    let from = (now.as_millisecond().saturating_add(1), "");
    for entry in expiry.range(from..)? {
        let (key, _) = entry?;
        let code = key.value().1;
        let Some(record) = reservations.get(code)? else {
            continue;
        };
        let decoded = decode_at(&RESERVATIONS, code, record.value());
        if let Some(r) = unreadable.skip::<Reservation>(decoded)?
            && r.status == Status::PreReserved
            && r.hold_client.is_some()
        {
            f(r);
        }
    }
    Ok(())
}

thread_local! {
    /// The index of the store whose writer runs on this thread.
    static WRITER_INDEX: RefCell<Option<Arc<LiveHolds>>> = const { RefCell::new(None) };
}

impl LiveHolds {
    /// The index of the holds `txn` lists as unexpired at `now` (read when the store opens).
    /// With `limits`, only the lists they check are kept (none: no reading at all).
    pub fn rebuild(
        txn: &ReadTransaction,
        unreadable: &Unreadable,
        now: Timestamp,
        limits: Option<&HoldLimits>,
    ) -> Result<LiveHolds, StoreError> {
        let live = LiveHolds::default();
        if let Some(limits) = limits {
            live.keep_only_for(limits);
            let unused = live.state().unused;
            if unused.clients && unused.nights {
                return Ok(live);
            }
        }
        let expiry = txn.open_table(HOLD_EXPIRY)?;
        let reservations = txn.open_table(RESERVATIONS)?;
        each_live_guest_hold(&expiry, &reservations, unreadable, now, |r| live.index(&r))?;
        live.state().journal.clear();
        Ok(live)
    }

    /// Makes this the index the current thread (the store's writer) keeps in step.
    pub(super) fn install(self: &Arc<Self>) {
        WRITER_INDEX.with(|i| *i.borrow_mut() = Some(self.clone()));
    }

    /// Stops keeping the lists `limits` never read (no client limit: by client; no share
    /// cap: by night), and forgets them.
    pub fn keep_only_for(&self, limits: &HoldLimits) {
        let state = &mut *self.state();
        state.unused = Unused {
            clients: limits.per(ClientKind::Phone).is_none()
                && limits.per(ClientKind::Address).is_none(),
            nights: limits.share_cap().is_none(),
        };
        if state.unused.clients {
            state.clients = BTreeMap::new();
        }
        if state.unused.nights {
            state.nights = BTreeMap::new();
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the index agree with `r`: listed while it is a guest's unpaid hold.
    fn index(&self, r: &Reservation) {
        let (Some(client), Some(expires)) = (&r.hold_client, r.expires_at) else {
            return;
        };
        let live = r.status == Status::PreReserved;
        let (ms, code) = (expires.as_millisecond(), packed(&r.code));
        let state = &mut *self.state();
        let unused = state.unused;
        for (_, key) in client.keys().into_iter().filter(|_| !unused.clients) {
            let holds = state.clients.entry(key.clone()).or_default();
            let was = if live {
                !holds.insert((ms, code))
            } else {
                holds.remove(&(ms, code))
            };
            if holds.is_empty() {
                state.clients.remove(&key);
            }
            if was != live {
                state.journal.push(Undo::Client(key, (ms, code), was));
            }
        }
        if unused.nights {
            return;
        }
        let key = (r.accommodation_id.get(), date_key(r.range.check_in()), code);
        let before = if live {
            state
                .nights
                .insert(key, (date_key(r.range.check_out()), ms))
        } else {
            state.nights.remove(&key)
        };
        state.journal.push(Undo::Night(key, before));
    }

    /// Ends the running batch: keeps its changes if it committed, otherwise undoes them.
    pub(super) fn settle(&self, committed: bool) {
        let state = &mut *self.state();
        let journal = std::mem::take(&mut state.journal);
        if committed {
            return;
        }
        for undo in journal.into_iter().rev() {
            match undo {
                Undo::Client(key, hold, true) => {
                    state.clients.entry(key).or_default().insert(hold);
                }
                Undo::Client(key, hold, false) => {
                    let holds = state.clients.entry(key.clone()).or_default();
                    holds.remove(&hold);
                    if holds.is_empty() {
                        state.clients.remove(&key);
                    }
                }
                Undo::Night(key, Some(before)) => {
                    state.nights.insert(key, before);
                }
                Undo::Night(key, None) => {
                    state.nights.remove(&key);
                }
            }
        }
    }

    /// The codes of the holds listed under `key` (a `ClientKind` key) still live at `now`;
    /// `None` when no limit needs the lists by client, so they are not kept.
    pub fn live_codes(&self, key: &str, now: Timestamp) -> Option<Vec<String>> {
        let state = self.state();
        (!state.unused.clients).then(|| {
            live_under(&state.clients, key, now)
                .map(|(_, code)| unpacked(*code))
                .collect()
        })
    }

    /// Whether a guest's hold of `range` at `accommodation` by `client` stays within `limits`.
    /// `longest` bounds the nights of any stored hold (`reservations.max_nights`).
    pub fn check(
        &self,
        client: &HoldClient,
        limits: &HoldLimits,
        (accommodation, range): (u64, &NightRange),
        (today, now): (Date, Timestamp),
        longest: u32,
    ) -> Result<(), HoldRefusal> {
        limits.check_length(range)?;
        let state = self.state();
        debug_assert!(
            !state.unused.clients || client.keys().iter().all(|(k, _)| limits.per(*k).is_none()),
            "a client limit checked against lists not kept"
        );
        debug_assert!(
            !state.unused.nights || limits.share_cap().is_none(),
            "a share cap checked against lists not kept"
        );
        for (kind, key) in client.keys() {
            if let Some(limit) = limits.per(kind) {
                let mut live = live_under(&state.clients, &key, now).take(limit as usize);
                let free_at = live.next().map(|(ms, _)| *ms);
                let count = u32::from(free_at.is_some()) + live.count() as u32;
                let free_at = free_at.and_then(|ms| Timestamp::from_millisecond(ms).ok());
                limits.check_client(kind, count, free_at)?;
            }
        }
        for window in limits.windows(today, range) {
            let held = held_nights(&state.nights, accommodation, &window, now, longest);
            limits.check_share(held, nights_within(range, &window))?;
        }
        Ok(())
    }
}

/// Keeps the running writer's index in step with `r` (see the module comment); a no-op on a
/// thread that is not a store's writer (migrations at open, whose result is rebuilt anyway).
pub(super) fn index(r: &Reservation) {
    WRITER_INDEX.with(|i| {
        if let Some(live) = &*i.borrow() {
            live.index(r);
        }
    });
}

/// The holds under `key` still live at `now`, the first to lapse first.
fn live_under<'a>(
    clients: &'a BTreeMap<String, BTreeSet<ClientHold>>,
    key: &str,
    now: Timestamp,
) -> impl Iterator<Item = &'a ClientHold> {
    let from = (now.as_millisecond().saturating_add(1), 0);
    clients
        .get(key)
        .into_iter()
        .flat_map(move |holds| holds.range(from..))
}

/// Nights of `window` at `accommodation` that guests' live holds cover.
fn held_nights(
    nights: &BTreeMap<NightKey, NightVal>,
    accommodation: u64,
    window: &NightRange,
    now: Timestamp,
    longest: u32,
) -> u32 {
    let earliest = window
        .check_in()
        .checked_sub(i64::from(longest).days())
        .unwrap_or(Date::MIN);
    let now = now.as_millisecond();
    let from = (accommodation, date_key(earliest), 0);
    let to = (accommodation, date_key(window.check_out()), 0);
    nights
        .range(from..to)
        .filter(|(_, (_, expires))| *expires > now)
        .filter_map(|((_, check_in, _), (check_out, _))| {
            let range = date_from_key(*check_in).zip(date_from_key(*check_out))?;
            NightRange::new(range.0, range.1).ok()
        })
        .map(|r| nights_within(&r, window))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reservation::tests::hold;

    fn guest_hold(now: Timestamp) -> Reservation {
        let mut r = hold(now);
        r.hold_client = Some(HoldClient {
            phone: "+5491122334455".into(),
            address: Some("203.0.113.9".into()),
        });
        r
    }

    fn phone_codes(live: &LiveHolds, now: Timestamp) -> Vec<String> {
        live.live_codes(&ClientKind::Phone.key("+5491122334455"), now)
            .unwrap()
    }

    #[test]
    fn a_batch_that_does_not_commit_leaves_the_index_as_it_was() {
        let now = Timestamp::now();
        let live = LiveHolds::default();
        let r = guest_hold(now);
        live.index(&r);
        live.settle(false);
        assert!(phone_codes(&live, now).is_empty());
        assert!(live.state().clients.is_empty());
        live.index(&r);
        live.settle(true);
        assert_eq!(phone_codes(&live, now), [r.code.to_string()]);
        assert_eq!(live.state().clients.len(), 2, "by phone and by network");
        // Cancelled in a batch that fails: still listed.
        let mut cancelled = r.clone();
        cancelled.status = Status::Cancelled;
        live.index(&cancelled);
        assert!(
            phone_codes(&live, now).is_empty(),
            "the running batch sees it"
        );
        live.settle(false);
        assert_eq!(phone_codes(&live, now), [r.code.to_string()]);
        assert_eq!(live.state().nights.len(), 1);
        for code in [
            r.code.clone(),
            ReservationCode::generate(jiff::civil::date(2099, 12, 31), [0xAB, 0xCD, 0xEF]),
        ] {
            assert_eq!(unpacked(packed(&code)), code.as_str());
        }
        // A hold that has lapsed no longer counts, before the expiry job runs.
        let later = now + jiff::SignedDuration::from_hours(1);
        assert!(phone_codes(&live, later).is_empty());
    }

    #[test]
    fn only_the_lists_the_limits_check_are_kept() {
        let now = Timestamp::now();
        let live = LiveHolds::default();
        live.index(&guest_hold(now));
        live.keep_only_for(&HoldLimits::OFF);
        live.index(&guest_hold(now));
        assert!(live.state().clients.is_empty() && live.state().nights.is_empty());
        assert_eq!(live.live_codes("phone:+5491122334455", now), None);
        let live = LiveHolds::default();
        live.keep_only_for(&HoldLimits {
            per_phone: 3,
            ..HoldLimits::OFF
        });
        live.index(&guest_hold(now));
        assert_eq!(live.state().clients.len(), 2);
        assert!(live.state().nights.is_empty(), "no share cap, no nights");
    }
}
