//! Reservation transactions: the atomic "check availability + insert hold", status changes
//! with their index upkeep, the expiry and completion sweeps, listing and stats.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::Serialize;

use super::accommodations::load_for_write;
use super::idempotency::{self, IdempotencyKey, Replay, StoredResponse};
use super::tables::{HOLD_EXPIRY, RESERVATIONS, decode, encode};
use super::{Store, StoreError, occupancy, outbox};
use crate::domain::contact::Contact;
use crate::domain::dates::{NightRange, local_today};
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::money::{Money, Rate};
use crate::domain::pricing::quote;
use crate::domain::reservation::{Actor, Channel, Reservation, Status, reservation_code};
use crate::domain::stay::{StayError, StayLimits, validate_stay};
use crate::secret::{random_hex, sha256_hex};

/// What the property's configuration says about new reservations.
#[derive(Debug, Clone)]
pub struct ReservePolicy {
    pub time_zone: TimeZone,
    pub hold: Duration,
    pub deposit_share: Rate,
    pub currency: String,
    pub max_nights: u32,
}

/// A request for a reservation, already parsed (dates, contact) but not yet checked against
/// the accommodation.
#[derive(Debug, Clone)]
pub struct NewReservation {
    pub accommodation_id: u64,
    pub check_in: Date,
    pub check_out: Date,
    pub guests: u32,
    pub contact: Contact,
    pub channel: Channel,
    /// Manual bookings (taken by phone) may start confirmed instead of as a hold.
    pub confirmed: bool,
    pub actor: Actor,
    pub note: String,
}

/// Why a reservation could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    #[error("no active accommodation with that id")]
    AccommodationNotFound,
    #[error(transparent)]
    Stay(#[from] StayError),
    #[error("the dates overlap another stay")]
    DateOverlap,
}

/// A new reservation and the guest's access token (shown once, stored only as a hash).
#[derive(Debug, Clone)]
pub struct Created {
    pub reservation: Reservation,
    pub access_token: String,
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

pub(super) fn load(txn: &WriteTransaction, code: &str) -> Result<Option<Reservation>, StoreError> {
    let table = txn.open_table(RESERVATIONS)?;
    table.get(code)?.map(|v| decode(v.value())).transpose()
}

pub(super) fn save(txn: &WriteTransaction, r: &Reservation) -> Result<(), StoreError> {
    txn.open_table(RESERVATIONS)?
        .insert(r.code.as_str(), encode(r).as_slice())?;
    Ok(())
}

fn unique_code(txn: &WriteTransaction, today: Date) -> Result<String, StoreError> {
    let table = txn.open_table(RESERVATIONS)?;
    loop {
        let code = reservation_code(today, rand::random());
        if table.get(code.as_str())?.is_none() {
            return Ok(code);
        }
    }
}

/// Checks, prices and inserts a reservation in `txn`.
fn create(
    txn: &WriteTransaction,
    req: NewReservation,
    policy: &ReservePolicy,
) -> Result<Result<Created, ReserveError>, StoreError> {
    let now = Timestamp::now();
    let today = local_today(now, &policy.time_zone);
    let acc = match load_for_write(txn, req.accommodation_id)? {
        Some(acc) if acc.spec.active => acc,
        _ => return Ok(Err(ReserveError::AccommodationNotFound)),
    };
    let limits = StayLimits {
        today,
        max_nights: policy.max_nights,
    };
    let range = match validate_stay(&acc.spec, req.check_in, req.check_out, req.guests, limits) {
        Ok(range) => range,
        Err(e) => return Ok(Err(e.into())),
    };
    if !occupancy::is_free(txn, acc.id, &range, now, None)? {
        return Ok(Err(ReserveError::DateOverlap));
    }
    let priced = quote(&acc.spec, &range, policy.deposit_share);
    let code = unique_code(txn, today)?;
    let access_token = random_hex(24);
    let by_guest = req.actor == Actor::Guest;
    let (status, expires_at) = if req.confirmed {
        (Status::Confirmed, None)
    } else {
        let hold = SignedDuration::try_from(policy.hold).unwrap_or(SignedDuration::from_mins(30));
        (Status::PreReserved, Some(now + hold))
    };
    let reservation = Reservation {
        code: code.clone(),
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
        access_token_sha256: sha256_hex(&access_token),
        history: vec![crate::domain::reservation::AuditEntry {
            at: now,
            from: None,
            to: status,
            actor: req.actor,
            reason: req.note,
        }],
        payment: Default::default(),
    };
    save(txn, &reservation)?;
    index(txn, &reservation)?;
    if by_guest {
        let event = DomainEvent::new(
            EventKind::NewBooking,
            Audience::Host,
            Some(reservation.code.clone()),
            now,
        );
        outbox::push(txn, &event)?;
    }
    Ok(Ok(Created {
        reservation,
        access_token,
    }))
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
    match r.occupancy() {
        Some(o) => occupancy::put(txn, r.accommodation_id, &r.code, &o),
        None => occupancy::remove(txn, r.accommodation_id, &r.code, &r.range),
    }
}

fn change(
    txn: &WriteTransaction,
    code: &str,
    req: ChangeRequest,
) -> Result<Result<Reservation, ChangeError>, StoreError> {
    let now = Timestamp::now();
    let Some(mut r) = load(txn, code)? else {
        return Ok(Err(ChangeError::NotFound));
    };
    let by_guest = req.actor == Actor::Guest;
    if !r.status.can_become(req.to) {
        return Ok(Err(ChangeError::InvalidState {
            from: r.status,
            to: req.to,
        }));
    }
    if by_guest && req.to == Status::Cancelled && r.status == Status::Confirmed {
        return Ok(Err(ChangeError::RequiresHost));
    }
    // Checked on every confirmation, not only for lapsed holds: a hold's own entry is ignored,
    // so this also protects against a wall clock that stepped back.
    if req.to == Status::Confirmed
        && !occupancy::is_free(txn, r.accommodation_id, &r.range, now, Some(code))?
    {
        return Ok(Err(ChangeError::DateOverlap));
    }
    r.transition(req.to, req.actor, req.reason, now)
        .expect("checked with can_become");
    save(txn, &r)?;
    index(txn, &r)?;
    Ok(Ok(r))
}

/// Most lapsed holds expired in one commit.
const EXPIRE_BATCH: usize = 256;

/// Expires up to [`EXPIRE_BATCH`] lapsed holds; says whether more may be due. An expiry entry
/// whose reservation is gone or no longer a hold is dropped.
fn expire_some(txn: &WriteTransaction) -> Result<(Vec<Channel>, bool), StoreError> {
    let now = Timestamp::now();
    let due: Vec<(i64, String)> = {
        let table = txn.open_table(HOLD_EXPIRY)?;
        table
            .range(..=(now.as_millisecond(), "\u{10FFFF}"))?
            .take(EXPIRE_BATCH)
            .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
            .collect::<Result<_, _>>()?
    };
    let mut expired = Vec::new();
    for (at, code) in &due {
        let req = ChangeRequest {
            to: Status::Expired,
            actor: Actor::System,
            reason: "hold lapsed without payment".into(),
        };
        match change(txn, code, req)? {
            Ok(r) => {
                let event = DomainEvent::new(
                    EventKind::HoldExpired,
                    Audience::Host,
                    Some(code.clone()),
                    now,
                );
                outbox::push(txn, &event)?;
                expired.push(r.channel);
            }
            Err(_) => {
                txn.open_table(HOLD_EXPIRY)?.remove((*at, code.as_str()))?;
            }
        }
    }
    Ok((expired, due.len() == EXPIRE_BATCH))
}

/// Filters for the admin reservation list.
#[derive(Debug, Clone, Default)]
pub struct ReservationFilter {
    pub status: Option<Status>,
    pub accommodation_id: Option<u64>,
    /// Stays with at least one night in `[from, to)`.
    pub window: Option<NightRange>,
    /// Case-insensitive text in code, name, phone or email.
    pub text: Option<String>,
}

impl ReservationFilter {
    fn matches(&self, r: &Reservation) -> bool {
        self.status.is_none_or(|s| s == r.status)
            && self
                .accommodation_id
                .is_none_or(|a| a == r.accommodation_id)
            && self.window.is_none_or(|w| w.overlaps(&r.range))
            && self.text.as_deref().is_none_or(|t| {
                let t = t.to_lowercase();
                r.code.to_lowercase().contains(&t)
                    || r.contact.name.to_lowercase().contains(&t)
                    || r.contact.phone.contains(&t)
                    || r.contact
                        .email
                        .as_deref()
                        .is_some_and(|e| e.to_lowercase().contains(&t))
            })
    }
}

/// One page of reservations, newest code first.
#[derive(Debug, Clone)]
pub struct ReservationPage {
    pub items: Vec<Reservation>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Counts, revenue and occupancy for the admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub counts: BTreeMap<String, u64>,
    /// `yyyy-mm` of the property's current month.
    pub month: String,
    /// Sum of the nightly prices of confirmed and completed nights in this month.
    #[schema(value_type = String)]
    pub revenue_this_month: Money,
    pub currency: String,
    /// Booked nights over available accommodation-nights this month, in percent.
    pub occupancy_percent: f64,
}

fn scan(
    txn: &ReadTransaction,
    mut visit: impl FnMut(Reservation) -> bool,
    before: Option<&str>,
) -> Result<(), StoreError> {
    let table = txn.open_table(RESERVATIONS)?;
    let iter = match before {
        Some(cursor) => table.range(..cursor)?,
        None => table.range::<&str>(..)?,
    };
    for entry in iter.rev() {
        if !visit(decode(entry?.1.value())?) {
            break;
        }
    }
    Ok(())
}

impl Store {
    /// Atomically checks availability and inserts the reservation; with an idempotency key, a
    /// replay of the same request returns the stored response instead (`render` makes the
    /// response to store; it runs only when there is a key).
    pub async fn reserve(
        &self,
        req: NewReservation,
        policy: ReservePolicy,
        idempotency: Option<IdempotencyKey>,
        render: impl FnOnce(&Result<Created, ReserveError>) -> StoredResponse + Send + 'static,
    ) -> Result<Replay<Result<Created, ReserveError>>, StoreError> {
        self.writer
            .write(move |txn| {
                idempotency::guard(txn, idempotency, |txn| create(txn, req, &policy), render)
            })
            .await
    }

    /// Moves reservation `code` to another status, if the rules allow it.
    pub async fn change_status(
        &self,
        code: String,
        req: ChangeRequest,
    ) -> Result<Result<Reservation, ChangeError>, StoreError> {
        self.writer.write(move |txn| change(txn, &code, req)).await
    }

    pub fn reservation(&self, code: &str) -> Result<Option<Reservation>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(RESERVATIONS)?;
            table.get(code)?.map(|v| decode(v.value())).transpose()
        })
    }

    /// A page of reservations matching `filter`, newest first, after `cursor`.
    pub fn list_reservations(
        &self,
        filter: &ReservationFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ReservationPage, StoreError> {
        self.read(|txn| {
            let mut items = Vec::with_capacity(limit + 1);
            scan(
                txn,
                |r| {
                    if filter.matches(&r) {
                        items.push(r);
                    }
                    items.len() <= limit
                },
                cursor,
            )?;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|r| r.code.clone())
            } else {
                None
            };
            Ok(ReservationPage { items, next_cursor })
        })
    }

    /// Every reservation matching `filter`, newest first (for CSV export).
    pub fn all_reservations(
        &self,
        filter: &ReservationFilter,
    ) -> Result<Vec<Reservation>, StoreError> {
        self.read(|txn| {
            let mut items = Vec::new();
            scan(
                txn,
                |r| {
                    if filter.matches(&r) {
                        items.push(r);
                    }
                    true
                },
                None,
            )?;
            Ok(items)
        })
    }

    /// Moves every lapsed hold to `expired`; returns the channels of those expired. Works in
    /// commits of at most [`EXPIRE_BATCH`] holds, so a backlog (a flood of unpaid holds) never
    /// makes one long transaction that holds up bookings.
    pub async fn expire_lapsed_holds(&self) -> Result<Vec<Channel>, StoreError> {
        let mut expired = Vec::new();
        loop {
            let (channels, more) = self.writer.write(expire_some).await?;
            expired.extend(channels);
            if !more {
                return Ok(expired);
            }
        }
    }

    /// Marks confirmed stays whose check-out day is `today` or earlier as completed; returns
    /// how many.
    pub async fn complete_past_stays(&self, today: Date) -> Result<usize, StoreError> {
        self.writer
            .write(move |txn| {
                let due = occupancy::reservations_ended_by(txn, today)?;
                let mut done = 0;
                for code in due {
                    let req = ChangeRequest {
                        to: Status::Completed,
                        actor: Actor::System,
                        reason: "check-out day reached".into(),
                    };
                    if change(txn, &code, req)?.is_ok() {
                        done += 1;
                    }
                }
                Ok(done)
            })
            .await
    }

    /// Counts by status, this month's revenue and occupancy at the property.
    pub fn stats(
        &self,
        time_zone: &TimeZone,
        currency: &str,
        units: u64,
    ) -> Result<Stats, StoreError> {
        let today = local_today(Timestamp::now(), time_zone);
        let month_start = today.first_of_month();
        let month = NightRange::new(
            month_start,
            today.last_of_month().tomorrow().unwrap_or(today),
        )
        .expect("a month has nights");
        let mut counts: BTreeMap<String, u64> = Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        let mut revenue = Money::ZERO;
        let mut booked_nights = 0u64;
        self.read(|txn| {
            scan(
                txn,
                |r| {
                    *counts.entry(r.status.as_str().to_owned()).or_default() += 1;
                    if matches!(r.status, Status::Confirmed | Status::Completed) {
                        for n in r.nightly.iter().filter(|n| month.contains(n.date)) {
                            revenue = revenue.checked_add(n.price).unwrap_or(revenue);
                            booked_nights += 1;
                        }
                    }
                    true
                },
                None,
            )
        })?;
        let capacity = units * u64::from(month.nights());
        let occupancy_percent = if capacity == 0 {
            0.0
        } else {
            (booked_nights as f64 * 10_000.0 / capacity as f64).round() / 100.0
        };
        Ok(Stats {
            counts,
            month: format!("{:04}-{:02}", month_start.year(), month_start.month()),
            revenue_this_month: revenue,
            currency: currency.to_owned(),
            occupancy_percent,
        })
    }
}
