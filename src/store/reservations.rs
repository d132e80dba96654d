//! Reservation records: the atomic "check availability + insert hold", status changes with
//! their index upkeep, the expiry and completion sweeps (reads are in `reads.rs`). The rules are
//! `domain::booking`: this file loads, asks the domain, and saves.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::accommodations::load_for_write;
use super::archive::Archive;
use super::hold_limits::{self, LiveHolds};
use super::idempotency::{self, IdempotencyKey, Replay};
use super::tables::{HOLD_EXPIRY, RESERVATIONS, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError, occupancy, outbox};
use crate::domain::booking::{
    ChangeError, ChangeRequest, NewReservation, ReserveError, ReservePolicy,
};
use crate::domain::dates::local_today;
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Channel, Reservation, Status};
use code::NewCode;

mod code;
mod reads;

pub use reads::{ReservationFilter, ReservationPage};

/// Reservation `code` from the live file (where everything that can still change is).
pub(super) fn load_live(
    txn: &WriteTransaction,
    code: &str,
) -> Result<Option<Reservation>, StoreError> {
    let table = txn.open_table(RESERVATIONS)?;
    table
        .get(code)?
        .map(|v| decode_at(&RESERVATIONS, code, v.value()))
        .transpose()
}

/// Reservation `code` from the live file, else from the archive: saving it puts it back in
/// the live file, where it wins over its archived copy.
pub(super) fn load(
    txn: &WriteTransaction,
    archive: &Archive,
    code: &str,
) -> Result<Option<Reservation>, StoreError> {
    match load_live(txn, code)? {
        Some(r) => Ok(Some(r)),
        None => archive.get(code),
    }
}

pub(super) fn save(txn: &WriteTransaction, r: &Reservation) -> Result<(), StoreError> {
    insert(&mut txn.open_table(RESERVATIONS)?, r)
}

fn insert(table: &mut redb::Table<&str, &[u8]>, r: &Reservation) -> Result<(), StoreError> {
    table.insert(r.code.as_str(), encode(r).as_slice())?;
    Ok(())
}

/// Whether `r`'s nights are free in `txn`, its own entry aside.
pub(super) fn dates_free(
    txn: &WriteTransaction,
    r: &Reservation,
    now: Timestamp,
) -> Result<bool, StoreError> {
    occupancy::is_free(
        txn,
        r.accommodation_id.get(),
        &r.range,
        now,
        Some(r.code.as_str()),
    )
}

/// Checks `req` against what is stored and inserts the reservation the domain makes of it.
fn create(
    txn: &WriteTransaction,
    req: NewReservation,
    policy: &ReservePolicy,
    code: NewCode<impl Fn(&ReservationCode) -> String>,
    (live_holds, archive): (&LiveHolds, &Archive),
) -> Result<Result<Reservation, ReserveError>, StoreError> {
    let now = Timestamp::now();
    let acc = load_for_write(txn, req.accommodation_id)?;
    let checked = req.check(acc.as_ref(), policy, now);
    let (acc, range) = match (acc, checked) {
        (Some(acc), Ok(range)) => (acc, range),
        (_, Err(e)) => return Ok(Err(e)),
        (None, Ok(_)) => return Ok(Err(ReserveError::AccommodationNotFound)),
    };
    if !occupancy::is_free(txn, acc.id.get(), &range, now, None)? {
        return Ok(Err(ReserveError::DateOverlap));
    }
    let today = local_today(now, &policy.time_zone);
    if let Some(client) = req.hold_client() {
        let limited = live_holds.check(
            &client,
            &policy.limits,
            (acc.id.get(), &range),
            (today, now),
            policy.max_nights,
        );
        if let Err(refused) = limited {
            return Ok(Err(refused.into()));
        }
    }
    let mut reservations = txn.open_table(RESERVATIONS)?;
    let code = code.claim(&reservations, archive, today)?;
    let (reservation, event) = Reservation::new_hold(req, &acc, range, policy, code, now);
    insert(&mut reservations, &reservation)?;
    index(txn, &reservation)?;
    if let Some(event) = event {
        outbox::push(txn, &event)?;
    }
    Ok(Ok(reservation))
}

/// Makes the occupancy and hold-expiry indexes agree with `r`'s status.
pub(super) fn index(txn: &WriteTransaction, r: &Reservation) -> Result<(), StoreError> {
    let mut expiry = txn.open_table(HOLD_EXPIRY)?;
    if let Some(at) = r.expires_at {
        if r.status == Status::PreReserved {
            expiry.insert((at.as_millisecond(), r.code.as_str()), ())?;
        } else {
            expiry.remove((at.as_millisecond(), r.code.as_str()))?;
        }
    }
    hold_limits::index(r);
    let (acc, code) = (r.accommodation_id.get(), r.code.as_str());
    match r.occupancy() {
        Some(o) => occupancy::put(txn, acc, code, &o),
        None => occupancy::remove(txn, acc, code, &r.range),
    }
}

pub(super) fn change(
    txn: &WriteTransaction,
    archive: &Archive,
    code: &str,
    req: ChangeRequest,
) -> Result<Result<Reservation, ChangeError>, StoreError> {
    let now = Timestamp::now();
    let Some(mut r) = load(txn, archive, code)? else {
        return Ok(Err(ChangeError::NotFound));
    };
    if let Err(e) = r.change(req, now, |r| dates_free(txn, r, now))? {
        return Ok(Err(e));
    }
    save(txn, &r)?;
    index(txn, &r)?;
    Ok(Ok(r))
}

/// Most lapsed holds expired in one commit. Each dirties pages of its own all over the store
/// (its record, its dates, the event), held in memory until the commit: at 256 the soak's
/// minute runs (about 2,000 holds lapsing) raised RSS by 7 MB for a moment.
const EXPIRE_BATCH: usize = 32;

/// An entry of the hold-expiry index: expiry (ms) and code.
type ExpiryKey = (i64, String);

/// Expires up to [`EXPIRE_BATCH`] lapsed holds after the expiry entry `after`; returns the last
/// entry read when more may be due. An expiry entry whose reservation is gone or no longer a
/// hold is dropped; one whose record does not decode is kept (noted) and passed over.
fn expire_some(
    txn: &WriteTransaction,
    unreadable: &Unreadable,
    after: Option<ExpiryKey>,
) -> Result<(Vec<Channel>, Option<ExpiryKey>), StoreError> {
    use std::ops::Bound;
    let now = Timestamp::now();
    let due: Vec<ExpiryKey> = {
        let table = txn.open_table(HOLD_EXPIRY)?;
        let start = match &after {
            Some((at, code)) => Bound::Excluded((*at, code.as_str())),
            None => Bound::Unbounded,
        };
        let end = Bound::Included((now.as_millisecond(), "\u{10FFFF}"));
        table
            .range::<(i64, &str)>((start, end))?
            .take(EXPIRE_BATCH)
            .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
            .collect::<Result<_, _>>()?
    };
    let mut expired = Vec::new();
    for (at, code) in &due {
        let Some(found) = unreadable.skip(load_live(txn, code))? else {
            continue;
        };
        let Some(mut r) = found else {
            txn.open_table(HOLD_EXPIRY)?.remove((*at, code.as_str()))?;
            continue;
        };
        match r.expire(now) {
            Ok(event) => {
                save(txn, &r)?;
                index(txn, &r)?;
                outbox::push(txn, &event)?;
                expired.push(r.channel);
            }
            Err(_) => {
                txn.open_table(HOLD_EXPIRY)?.remove((*at, code.as_str()))?;
            }
        }
    }
    let more = due.len() == EXPIRE_BATCH;
    Ok((expired, due.last().cloned().filter(|_| more)))
}

/// Filters for the admin reservation list.
impl Store {
    /// Atomically checks availability and inserts the reservation (with the hash
    /// `token_hash` makes of its guest's token from its new code, see [`NewCode`]); with an
    /// idempotency key, a replay of the same request returns what `remember` made of the first
    /// outcome instead (`remember` runs only when there is a key, in the same commit).
    pub async fn reserve<R: Serialize + DeserializeOwned + Send + 'static>(
        &self,
        req: NewReservation,
        policy: ReservePolicy,
        token_hash: impl Fn(&ReservationCode) -> String + Send + 'static,
        idempotency: Option<IdempotencyKey>,
        remember: impl FnOnce(&Result<Reservation, ReserveError>) -> Option<R> + Send + 'static,
    ) -> Result<Replay<Result<Reservation, ReserveError>, R>, StoreError> {
        let code = NewCode::new(local_today(Timestamp::now(), &policy.time_zone), token_hash);
        let (live_holds, archive) = (self.live_holds.clone(), self.archive.clone());
        self.writer
            .write(move |txn| {
                idempotency::guard(
                    txn,
                    idempotency,
                    |txn| create(txn, req, &policy, code, (&live_holds, &archive)),
                    remember,
                )
            })
            .await
    }

    /// Moves reservation `code` to another status, if the rules allow it.
    pub async fn change_status(
        &self,
        code: ReservationCode,
        req: ChangeRequest,
    ) -> Result<Result<Reservation, ChangeError>, StoreError> {
        let archive = self.archive.clone();
        self.writer
            .write(move |txn| change(txn, &archive, code.as_str(), req))
            .await
    }

    /// Moves every lapsed hold to `expired`; returns the channels of those expired. Works in
    /// commits of at most [`EXPIRE_BATCH`] holds, so a backlog (a flood of unpaid holds) never
    /// makes one long transaction that holds up bookings. A hold whose record does not decode
    /// is skipped (noted) and still holds its dates.
    pub async fn expire_lapsed_holds(&self) -> Result<Vec<Channel>, StoreError> {
        let mut expired = Vec::new();
        let mut after = None;
        loop {
            let unreadable = self.unreadable.clone();
            let (channels, next) = self
                .writer
                .write(move |txn| expire_some(txn, &unreadable, after))
                .await?;
            expired.extend(channels);
            match next {
                Some(last) => after = Some(last),
                None => return Ok(expired),
            }
        }
    }

    /// Marks confirmed stays whose check-out day is `today` or earlier as completed; returns
    /// how many. One whose record does not decode is skipped (noted).
    pub async fn complete_past_stays(&self, today: Date) -> Result<usize, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let now = Timestamp::now();
                let mut done = 0;
                for code in occupancy::reservations_ended_by(txn, today)? {
                    let Some(mut r) = unreadable.skip(load_live(txn, &code))?.flatten() else {
                        continue;
                    };
                    if r.complete(now).is_ok() {
                        save(txn, &r)?;
                        index(txn, &r)?;
                        done += 1;
                    }
                }
                Ok(done)
            })
            .await
    }
}
