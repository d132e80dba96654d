//! The indexes behind the hold limits: guests' live unpaid holds by client (phone, network)
//! and by accommodation, kept in step with each reservation's status, so a new hold's check
//! reads a handful of index entries inside the writer's transaction instead of every
//! reservation. The rules are `domain::hold_limits`.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::tables::{GUEST_HOLDS, HOLD_CLIENTS};
use crate::domain::dates::{NightRange, date_from_key, date_key};
use crate::domain::hold_limits::{HoldClient, HoldLimits, HoldRefusal, nights_within};
use crate::domain::reservation::{Reservation, Status};

/// Whether a guest's hold of `range` at `accommodation` by `client` stays within `limits`.
/// `longest` bounds the nights of any stored hold (`reservations.max_nights`).
pub(super) fn check(
    txn: &WriteTransaction,
    client: &HoldClient,
    limits: &HoldLimits,
    (accommodation, range): (u64, &NightRange),
    (today, now): (Date, Timestamp),
    longest: u32,
) -> Result<Result<(), HoldRefusal>, StoreError> {
    if let Err(refused) = limits.check_length(range) {
        return Ok(Err(refused));
    }
    let limited: Vec<_> = client
        .keys()
        .into_iter()
        .filter_map(|(kind, key)| limits.per(kind).map(|limit| (kind, key, limit)))
        .collect();
    if !limited.is_empty() {
        let clients = txn.open_table(HOLD_CLIENTS)?;
        for (kind, key, limit) in limited {
            let (live, free_at) = live_holds(&clients, &key, now, limit)?;
            if let Err(refused) = limits.check_client(kind, live, free_at) {
                return Ok(Err(refused));
            }
        }
    }
    let windows = limits.windows(today, range);
    if !windows.is_empty() {
        let nights = txn.open_table(GUEST_HOLDS)?;
        for window in windows {
            let held = held_nights(&nights, accommodation, &window, now, longest)?;
            if let Err(refused) = limits.check_share(held, nights_within(range, &window)) {
                return Ok(Err(refused));
            }
        }
    }
    Ok(Ok(()))
}

/// The live holds under `key`, counted up to `limit`, and when the first of them lapses.
fn live_holds(
    table: &impl ReadableTable<(&'static str, i64, &'static str), ()>,
    key: &str,
    now: Timestamp,
    limit: u32,
) -> Result<(u32, Option<Timestamp>), StoreError> {
    let from = now.as_millisecond().saturating_add(1);
    let mut live = 0;
    let mut first = None;
    for entry in table.range((key, from, "")..=(key, i64::MAX, "\u{10FFFF}"))? {
        let (k, _) = entry?;
        first.get_or_insert(k.value().1);
        live += 1;
        if live >= limit {
            break;
        }
    }
    Ok((
        live,
        first.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
    ))
}

/// Nights of `window` at `accommodation` that guests' live holds cover.
fn held_nights(
    table: &impl ReadableTable<(u64, i32, &'static str), (i32, i64)>,
    accommodation: u64,
    window: &NightRange,
    now: Timestamp,
    longest: u32,
) -> Result<u32, StoreError> {
    let earliest = window
        .check_in()
        .checked_sub(i64::from(longest).days())
        .unwrap_or(Date::MIN);
    let now = now.as_millisecond();
    let mut held = 0;
    for entry in table.range(
        (accommodation, date_key(earliest), "")..(accommodation, date_key(window.check_out()), ""),
    )? {
        let (k, v) = entry?;
        let (check_out, expires) = v.value();
        if expires <= now {
            continue;
        }
        let range = date_from_key(k.value().1)
            .zip(date_from_key(check_out))
            .and_then(|(a, b)| NightRange::new(a, b).ok());
        held += range.map_or(0, |r| nights_within(&r, window));
    }
    Ok(held)
}

/// Makes the hold-limit indexes agree with `r`: listed while it is a guest's unpaid hold.
pub(super) fn index(txn: &WriteTransaction, r: &Reservation) -> Result<(), StoreError> {
    let (Some(client), Some(expires)) = (&r.hold_client, r.expires_at) else {
        return Ok(());
    };
    let live = r.status == Status::PreReserved;
    let (ms, code) = (expires.as_millisecond(), r.code.as_str());
    let mut clients = txn.open_table(HOLD_CLIENTS)?;
    for (_, key) in client.keys() {
        if live {
            clients.insert((key.as_str(), ms, code), ())?;
        } else {
            clients.remove((key.as_str(), ms, code))?;
        }
    }
    let mut nights = txn.open_table(GUEST_HOLDS)?;
    let key = (r.accommodation_id.get(), date_key(r.range.check_in()), code);
    if live {
        nights.insert(key, (date_key(r.range.check_out()), ms))?;
    } else {
        nights.remove(key)?;
    }
    Ok(())
}

/// The codes of the holds listed under `key` (a [`ClientKind`] key) still live at `now`.
///
/// [`ClientKind`]: crate::domain::hold_limits::ClientKind
pub(super) fn live_codes(
    table: &impl ReadableTable<(&'static str, i64, &'static str), ()>,
    key: &str,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let from = now.as_millisecond().saturating_add(1);
    table
        .range((key, from, "")..=(key, i64::MAX, "\u{10FFFF}"))?
        .map(|e| Ok(e?.0.value().2.to_owned()))
        .collect()
}
