//! Payments: one record per provider payment, applied to its reservation in the same
//! transaction that records it, so a report seen twice (or by two paths at once) counts once.

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};

use super::reservations::{index, load, save};
use super::tables::{HOLD_EXPIRY, PAYMENTS, RESERVATION_PAYMENTS, RESERVATIONS, decode, encode};
use super::{Store, StoreError, occupancy, outbox};
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::money::Money;
use crate::domain::payment::{
    Booking, Effect, PaymentFlag, PaymentRecord, PaymentState, ProviderPayment, decide, paid_state,
};
use crate::domain::reservation::{Channel, Reservation, Status};

/// What applying a payment report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The same (or an out-of-date) status again: only the event count changed.
    Unchanged,
    /// A new status, recorded; the reservation did not change.
    Recorded,
    /// Its reference names no reservation.
    Orphan,
    /// The deposit confirmed the stay.
    Confirmed(Channel),
    /// Counted in the paid amount of a confirmed stay.
    Counted,
    /// Approved but under the deposit or in another currency.
    Flagged(PaymentFlag),
    /// Approved, but the stay cannot be had: the money must go back.
    NeedsRefund,
    /// A counted payment was refunded or charged back.
    Reversed,
}

/// The admin's payment list filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentFilter {
    /// Only payments carrying this flag.
    pub flag: Option<PaymentFlag>,
}

fn load_payment(txn: &WriteTransaction, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let table = txn.open_table(PAYMENTS)?;
    table.get(id)?.map(|v| decode(v.value())).transpose()
}

fn event(
    txn: &WriteTransaction,
    kind: EventKind,
    audiences: &[Audience],
    record: &PaymentRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    for audience in audiences {
        let mut event = DomainEvent::new(kind, *audience, record.reservation_code.clone(), now);
        event.payment_id = Some(record.id.clone());
        outbox::push(txn, &event)?;
    }
    Ok(())
}

fn count(r: &mut Reservation, record: &mut PaymentRecord) {
    r.payment.paid = r
        .payment
        .paid
        .checked_add(record.amount)
        .unwrap_or(r.payment.paid);
    r.payment.state = paid_state(r.payment.paid, r.deposit, r.total);
    record.counted = true;
}

/// Confirms `r` with `record`'s money if its dates are still free (a lapsed hold competes
/// like a new one); otherwise marks the money for refund.
fn confirm(
    txn: &WriteTransaction,
    r: &mut Reservation,
    record: &mut PaymentRecord,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let free = occupancy::is_free(txn, r.accommodation_id, &r.range, now, Some(&r.code))?;
    let reason = format!("deposit paid (Mercado Pago payment {})", record.id);
    if free && r.confirm_late_payment(reason, now).is_ok() {
        count(r, record);
        index(txn, r)?;
        event(
            txn,
            EventKind::BookingConfirmed,
            &[Audience::Guest, Audience::Host],
            record,
            now,
        )?;
        return Ok(Outcome::Confirmed(r.channel));
    }
    needs_refund(txn, r, record, now)
}

fn needs_refund(
    txn: &WriteTransaction,
    r: &mut Reservation,
    record: &mut PaymentRecord,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    record.flag(PaymentFlag::NeedsRefund);
    r.payment.state = PaymentState::NeedsRefund;
    event(
        txn,
        EventKind::PaymentNeedsRefund,
        &[Audience::Host, Audience::Guest],
        record,
        now,
    )?;
    Ok(Outcome::NeedsRefund)
}

/// Records `payment` and applies what it means to its reservation.
fn apply(txn: &WriteTransaction, payment: &ProviderPayment) -> Result<Outcome, StoreError> {
    let now = Timestamp::now();
    let mut record =
        load_payment(txn, &payment.id)?.unwrap_or_else(|| PaymentRecord::new(payment, now));
    let first = record.history.is_empty();
    let news = record.observe(payment, now);
    let code = record.reservation_code.clone();
    let mut reservation = match &code {
        Some(code) => load(txn, code)?,
        None => None,
    };
    if first && let (Some(code), Some(_)) = (&code, &reservation) {
        txn.open_table(RESERVATION_PAYMENTS)?
            .insert((code.as_str(), payment.id.as_str()), ())?;
    }
    let outcome = match (&mut reservation, news) {
        (_, false) => Outcome::Unchanged,
        (None, true) => {
            if first {
                record.flag(PaymentFlag::Orphan);
                event(
                    txn,
                    EventKind::OrphanPayment,
                    &[Audience::Host],
                    &record,
                    now,
                )?;
            }
            Outcome::Orphan
        }
        (Some(r), true) => {
            let booking = Booking {
                status: r.status,
                deposit: r.deposit,
                currency: &r.currency,
                paid: r.payment.paid,
            };
            match decide(booking, payment, record.counted) {
                Effect::Record => Outcome::Recorded,
                Effect::Confirm => confirm(txn, r, &mut record, now)?,
                Effect::Count => {
                    count(r, &mut record);
                    Outcome::Counted
                }
                Effect::Flag(flag) => {
                    record.flag(flag);
                    let kind = if flag == PaymentFlag::AmountMismatch {
                        count(r, &mut record);
                        EventKind::PaymentUnderDeposit
                    } else {
                        EventKind::PaymentCurrencyMismatch
                    };
                    event(txn, kind, &[Audience::Host], &record, now)?;
                    Outcome::Flagged(flag)
                }
                Effect::NeedsRefund => needs_refund(txn, r, &mut record, now)?,
                Effect::Reverse => {
                    record.flag(PaymentFlag::Reversed);
                    record.counted = false;
                    r.payment.paid =
                        Money::from_cents((r.payment.paid.cents() - record.amount.cents()).max(0));
                    r.payment.state = PaymentState::Reversed;
                    event(
                        txn,
                        EventKind::PaymentReversed,
                        &[Audience::Host],
                        &record,
                        now,
                    )?;
                    Outcome::Reversed
                }
            }
        }
    };
    if let Some(r) = &reservation
        && outcome != Outcome::Unchanged
    {
        save(txn, r)?;
    }
    txn.open_table(PAYMENTS)?
        .insert(record.id.as_str(), encode(&record).as_slice())?;
    Ok(outcome)
}

/// Why a payment link could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("no reservation with that code")]
    NotFound,
    #[error("only a live hold can be paid (this one is {0})")]
    NotAHold(Status),
}

impl Store {
    /// Records a payment report and applies it, atomically.
    pub async fn apply_payment(&self, payment: ProviderPayment) -> Result<Outcome, StoreError> {
        self.writer.write(move |txn| apply(txn, &payment)).await
    }

    /// Stores the Checkout Pro link of hold `code`, made for its current expiry.
    pub async fn set_payment_link(
        &self,
        code: String,
        preference_id: String,
        url: String,
        made_for: Option<Timestamp>,
    ) -> Result<Result<Reservation, LinkError>, StoreError> {
        self.writer
            .write(move |txn| {
                let Some(mut r) = load(txn, &code)? else {
                    return Ok(Err(LinkError::NotFound));
                };
                if r.status != Status::PreReserved {
                    return Ok(Err(LinkError::NotAHold(r.status)));
                }
                r.payment.preference_id = Some(preference_id);
                r.payment.payment_url = Some(url);
                r.payment.link_expires_at = made_for;
                save(txn, &r)?;
                Ok(Ok(r))
            })
            .await
    }

    /// Payments matching `filter`, most recently updated first.
    pub fn payments(&self, filter: PaymentFilter) -> Result<Vec<PaymentRecord>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(PAYMENTS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let p: PaymentRecord = decode(entry?.1.value())?;
                if filter.flag.is_none_or(|f| p.flags.contains(&f)) {
                    out.push(p);
                }
            }
            out.sort_by_key(|p| std::cmp::Reverse(p.updated_at));
            Ok(out)
        })
    }

    /// The payments recorded for reservation `code`.
    pub fn reservation_payments(&self, code: &str) -> Result<Vec<PaymentRecord>, StoreError> {
        self.read(|txn| {
            let index = txn.open_table(RESERVATION_PAYMENTS)?;
            let payments = txn.open_table(PAYMENTS)?;
            let mut out = Vec::new();
            for entry in index.range((code, "")..=(code, "\u{10FFFF}"))? {
                let (key, _) = entry?;
                if let Some(v) = payments.get(key.value().1)? {
                    out.push(decode(v.value())?);
                }
            }
            Ok(out)
        })
    }

    /// Codes of live holds that have a payment link: the ones reconciliation asks about.
    pub fn holds_with_links(&self) -> Result<Vec<String>, StoreError> {
        self.read(|txn| {
            let expiry = txn.open_table(HOLD_EXPIRY)?;
            let reservations = txn.open_table(RESERVATIONS)?;
            let mut out = Vec::new();
            for entry in expiry.iter()? {
                let (key, _) = entry?;
                let code = key.value().1;
                if let Some(v) = reservations.get(code)? {
                    let r: Reservation = decode(v.value())?;
                    if r.status == Status::PreReserved && r.payment.preference_id.is_some() {
                        out.push(r.code);
                    }
                }
            }
            Ok(out)
        })
    }
}
