//! Payment records: one per provider payment, applied to its reservation (by the rules of
//! `domain::deposit`) in the same transaction that records it, so a report seen twice (or by
//! two paths at once) counts once.

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};

use super::archive::Archive;
use super::reservations::{dates_free, index, load, save};
use super::tables::{HOLD_EXPIRY, PAYMENTS, RESERVATION_PAYMENTS, RESERVATIONS, encode};
use super::unreadable::decode_at;
use super::{Store, StoreError, outbox};
use crate::domain::deposit::{Outcome, apply_report};
use crate::domain::ids::ReservationCode;
use crate::domain::payment::{PaymentFlag, PaymentRecord, ProviderPayment};
use crate::domain::reservation::{LinkError, Reservation, Status};

/// The admin's payment list filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentFilter {
    /// Only payments carrying this flag.
    pub flag: Option<PaymentFlag>,
}

fn load_payment(txn: &WriteTransaction, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let table = txn.open_table(PAYMENTS)?;
    table
        .get(id)?
        .map(|v| decode_at(&PAYMENTS, id, v.value()))
        .transpose()
}

/// Records `payment` and applies what the domain says it means to its reservation.
fn apply(
    txn: &WriteTransaction,
    archive: &Archive,
    payment: &ProviderPayment,
) -> Result<Outcome, StoreError> {
    let now = Timestamp::now();
    let mut record =
        load_payment(txn, &payment.id)?.unwrap_or_else(|| PaymentRecord::new(payment, now));
    let first = record.history.is_empty();
    let news = record.observe(payment, now);
    let mut reservation = match &record.reservation_code {
        Some(code) => load(txn, archive, code)?,
        None => None,
    };
    if first && let (Some(code), Some(_)) = (&record.reservation_code, &reservation) {
        txn.open_table(RESERVATION_PAYMENTS)?
            .insert((code.as_str(), payment.id.as_str()), ())?;
    }
    let before = reservation.as_ref().map(|r| r.status);
    let applied = apply_report(
        &mut record,
        reservation.as_mut(),
        payment,
        (first, news),
        now,
        |r| dates_free(txn, r, now),
    )?;
    if let Some(r) = &reservation
        && applied.outcome != Outcome::Unchanged
    {
        save(txn, r)?;
        if before != Some(r.status) {
            index(txn, r)?;
        }
    }
    for event in &applied.events {
        outbox::push(txn, event)?;
    }
    txn.open_table(PAYMENTS)?
        .insert(record.id.as_str(), encode(&record).as_slice())?;
    Ok(applied.outcome)
}

impl Store {
    /// Records a payment report and applies it, atomically.
    pub async fn apply_payment(&self, payment: ProviderPayment) -> Result<Outcome, StoreError> {
        let archive = self.archive.clone();
        self.writer
            .write(move |txn| apply(txn, &archive, &payment))
            .await
    }

    /// Stores the Checkout Pro link of hold `code`, made for its current expiry.
    pub async fn set_payment_link(
        &self,
        code: ReservationCode,
        preference_id: String,
        url: String,
        made_for: Option<Timestamp>,
    ) -> Result<Result<Reservation, LinkError>, StoreError> {
        let archive = self.archive.clone();
        self.writer
            .write(move |txn| {
                let Some(mut r) = load(txn, &archive, code.as_str())? else {
                    return Ok(Err(LinkError::NotFound));
                };
                if let Err(e) = r.attach_payment_link(preference_id, url, made_for) {
                    return Ok(Err(e));
                }
                save(txn, &r)?;
                Ok(Ok(r))
            })
            .await
    }

    /// Payments matching `filter`, most recently updated first (unreadable ones skipped).
    pub fn payments(&self, filter: PaymentFilter) -> Result<Vec<PaymentRecord>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(PAYMENTS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&PAYMENTS, k.value(), v.value());
                if let Some(p) = self.unreadable.skip::<PaymentRecord>(decoded)?
                    && filter.flag.is_none_or(|f| p.flags.contains(&f))
                {
                    out.push(p);
                }
            }
            out.sort_by_key(|p| std::cmp::Reverse(p.updated_at));
            Ok(out)
        })
    }

    /// The payments recorded for reservation `code` (unreadable ones skipped).
    pub fn reservation_payments(
        &self,
        code: &ReservationCode,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let code = code.as_str();
        self.read(|txn| {
            let index = txn.open_table(RESERVATION_PAYMENTS)?;
            let payments = txn.open_table(PAYMENTS)?;
            let mut out = Vec::new();
            for entry in index.range((code, "")..=(code, "\u{10FFFF}"))? {
                let (key, _) = entry?;
                let id = key.value().1;
                if let Some(v) = payments.get(id)? {
                    let decoded = decode_at(&PAYMENTS, id, v.value());
                    out.extend(self.unreadable.skip(decoded)?);
                }
            }
            Ok(out)
        })
    }

    /// Codes of live holds that have a payment link: the ones reconciliation asks about
    /// (unreadable ones skipped).
    pub fn holds_with_links(&self) -> Result<Vec<ReservationCode>, StoreError> {
        self.read(|txn| {
            let expiry = txn.open_table(HOLD_EXPIRY)?;
            let reservations = txn.open_table(RESERVATIONS)?;
            let mut out = Vec::new();
            for entry in expiry.iter()? {
                let (key, _) = entry?;
                let code = key.value().1;
                if let Some(v) = reservations.get(code)? {
                    let decoded = decode_at(&RESERVATIONS, code, v.value());
                    if let Some(r) = self.unreadable.skip::<Reservation>(decoded)?
                        && r.status == Status::PreReserved
                        && r.payment.preference_id.is_some()
                    {
                        out.push(r.code);
                    }
                }
            }
            Ok(out)
        })
    }
}
