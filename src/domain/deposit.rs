//! What a payment report does to the reservation it names: the decision ([`decide`]) and its
//! effects ([`apply_report`]): the paid amount and payment state, a confirmation (also of a
//! lapsed hold whose dates are still free), flags on the payment, and the events the guest and
//! the host hear. Pure: the store loads and saves, and answers whether dates are free.

use jiff::Timestamp;

use super::events::{Audience, DomainEvent, EventKind};
use super::money::Money;
use super::payment::{
    PaymentFlag, PaymentRecord, PaymentState, PaymentStatus, ProviderPayment, paid_state,
};
use super::reservation::{Channel, Reservation, Status};

/// What the payment's reservation looks like when a payment report arrives.
#[derive(Debug, Clone, Copy)]
pub struct Booking<'a> {
    pub status: Status,
    pub deposit: Money,
    pub currency: &'a str,
    /// Counted payments so far.
    pub paid: Money,
}

/// What a newly reported payment status does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Recorded only (waiting, declined, or nothing to change).
    Record,
    /// The deposit is covered: confirm the hold, even a lapsed one if its dates are still free
    /// (otherwise the money needs a refund).
    Confirm,
    /// Approved for a stay already confirmed: count it in the paid amount.
    Count,
    /// Approved but not enough (or in another currency): the hold stays, the host is told.
    Flag(PaymentFlag),
    /// Approved for a stay that is gone (cancelled, completed, no-show): refund.
    NeedsRefund,
    /// A counted payment was refunded, charged back or disputed: the host is told, the
    /// booking stays.
    Reverse,
}

/// Decides what payment `payment` (whose status is news) does to booking `b`; `counted`
/// says whether its amount already counts for the booking.
pub fn decide(b: Booking<'_>, payment: &ProviderPayment, counted: bool) -> Effect {
    match payment.status {
        PaymentStatus::Approved if counted => Effect::Record,
        PaymentStatus::Approved if !payment.currency.eq_ignore_ascii_case(b.currency) => {
            Effect::Flag(PaymentFlag::CurrencyMismatch)
        }
        PaymentStatus::Approved => match b.status {
            Status::PreReserved | Status::Expired => {
                let covered = b
                    .paid
                    .checked_add(payment.amount)
                    .is_some_and(|p| p >= b.deposit);
                if covered {
                    Effect::Confirm
                } else {
                    Effect::Flag(PaymentFlag::AmountMismatch)
                }
            }
            Status::Confirmed => Effect::Count,
            Status::Cancelled | Status::Completed | Status::NoShow => Effect::NeedsRefund,
        },
        PaymentStatus::Refunded | PaymentStatus::ChargedBack | PaymentStatus::InMediation
            if counted =>
        {
            Effect::Reverse
        }
        _ => Effect::Record,
    }
}

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

/// What a report changed, and the events to record with it.
#[derive(Debug)]
pub struct Applied {
    pub outcome: Outcome,
    pub events: Vec<DomainEvent>,
}

fn events(
    kind: EventKind,
    audiences: &[Audience],
    record: &PaymentRecord,
    now: Timestamp,
) -> Vec<DomainEvent> {
    audiences
        .iter()
        .map(|audience| {
            let mut event = DomainEvent::new(kind, *audience, record.reservation_code.clone(), now);
            event.payment_id = Some(record.id.clone());
            event
        })
        .collect()
}

impl Reservation {
    /// Counts `record`'s amount in what was paid.
    fn count_payment(&mut self, record: &mut PaymentRecord) {
        self.payment.paid = self
            .payment
            .paid
            .checked_add(record.amount)
            .unwrap_or(self.payment.paid);
        self.payment.state = paid_state(self.payment.paid, self.deposit, self.total);
        record.counted = true;
    }

    /// Takes a counted payment that was refunded, charged back or disputed out of what was paid.
    fn reverse_payment(&mut self, record: &mut PaymentRecord) {
        record.flag(PaymentFlag::Reversed);
        record.counted = false;
        self.payment.paid =
            Money::from_cents((self.payment.paid.cents() - record.amount.cents()).max(0));
        self.payment.state = PaymentState::Reversed;
    }

    /// Marks money that arrived for a stay that cannot be had.
    fn refund_needed(&mut self, record: &mut PaymentRecord, now: Timestamp) -> Applied {
        record.flag(PaymentFlag::NeedsRefund);
        self.payment.state = PaymentState::NeedsRefund;
        Applied {
            outcome: Outcome::NeedsRefund,
            events: events(
                EventKind::PaymentNeedsRefund,
                &[Audience::Host, Audience::Guest],
                record,
                now,
            ),
        }
    }
}

/// Applies a report of `payment` to `reservation` (the one its record names, if it exists).
/// `record` has already observed the report: `first` says whether it was new to us and `news`
/// whether its status was. `dates_free` is asked only when the payment would confirm the stay
/// (a lapsed hold competes for its dates like a new one).
pub fn apply_report<E>(
    record: &mut PaymentRecord,
    reservation: Option<&mut Reservation>,
    payment: &ProviderPayment,
    (first, news): (bool, bool),
    now: Timestamp,
    dates_free: impl FnOnce(&Reservation) -> Result<bool, E>,
) -> Result<Applied, E> {
    let unchanged = |outcome| Applied {
        outcome,
        events: vec![],
    };
    if !news {
        return Ok(unchanged(Outcome::Unchanged));
    }
    let Some(r) = reservation else {
        if !first {
            return Ok(unchanged(Outcome::Orphan));
        }
        record.flag(PaymentFlag::Orphan);
        return Ok(Applied {
            outcome: Outcome::Orphan,
            events: events(EventKind::OrphanPayment, &[Audience::Host], record, now),
        });
    };
    let booking = Booking {
        status: r.status,
        deposit: r.deposit,
        currency: &r.currency,
        paid: r.payment.paid,
    };
    Ok(match decide(booking, payment, record.counted) {
        Effect::Record => unchanged(Outcome::Recorded),
        Effect::Confirm => {
            let reason = format!("deposit paid (Mercado Pago payment {})", record.id);
            if dates_free(r)? && r.confirm_late_payment(reason, now).is_ok() {
                r.count_payment(record);
                Applied {
                    outcome: Outcome::Confirmed(r.channel),
                    events: events(
                        EventKind::BookingConfirmed,
                        &[Audience::Guest, Audience::Host],
                        record,
                        now,
                    ),
                }
            } else {
                r.refund_needed(record, now)
            }
        }
        Effect::Count => {
            r.count_payment(record);
            unchanged(Outcome::Counted)
        }
        Effect::Flag(flag) => {
            record.flag(flag);
            let kind = if flag == PaymentFlag::AmountMismatch {
                r.count_payment(record);
                EventKind::PaymentUnderDeposit
            } else {
                EventKind::PaymentCurrencyMismatch
            };
            Applied {
                outcome: Outcome::Flagged(flag),
                events: events(kind, &[Audience::Host], record, now),
            }
        }
        Effect::NeedsRefund => r.refund_needed(record, now),
        Effect::Reverse => {
            r.reverse_payment(record);
            Applied {
                outcome: Outcome::Reversed,
                events: events(EventKind::PaymentReversed, &[Audience::Host], record, now),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payment::tests::payment;

    fn booking(status: Status) -> Booking<'static> {
        Booking {
            status,
            deposit: Money::from_units(14_400),
            currency: "ARS",
            paid: Money::ZERO,
        }
    }

    #[test]
    fn approval_of_the_deposit_confirms_holds_and_lapsed_holds() {
        let p = payment(PaymentStatus::Approved, 14_400);
        for status in [Status::PreReserved, Status::Expired] {
            assert_eq!(decide(booking(status), &p, false), Effect::Confirm);
        }
        assert_eq!(decide(booking(Status::Confirmed), &p, false), Effect::Count);
        assert_eq!(decide(booking(Status::Confirmed), &p, true), Effect::Record);
        for status in [Status::Cancelled, Status::Completed, Status::NoShow] {
            assert_eq!(decide(booking(status), &p, false), Effect::NeedsRefund);
        }
    }

    #[test]
    fn short_or_foreign_payments_are_flagged_and_add_up() {
        let short = payment(PaymentStatus::Approved, 10_000);
        assert_eq!(
            decide(booking(Status::PreReserved), &short, false),
            Effect::Flag(PaymentFlag::AmountMismatch)
        );
        let topped_up = Booking {
            paid: Money::from_units(4_400),
            ..booking(Status::PreReserved)
        };
        assert_eq!(decide(topped_up, &short, false), Effect::Confirm);
        let mut usd = payment(PaymentStatus::Approved, 20_000);
        usd.currency = "USD".into();
        assert_eq!(
            decide(booking(Status::PreReserved), &usd, false),
            Effect::Flag(PaymentFlag::CurrencyMismatch)
        );
    }

    #[test]
    fn waiting_declined_and_reversed_payments() {
        for s in [
            PaymentStatus::Pending,
            PaymentStatus::InProcess,
            PaymentStatus::Rejected,
            PaymentStatus::Cancelled,
        ] {
            let p = payment(s, 14_400);
            assert_eq!(
                decide(booking(Status::PreReserved), &p, false),
                Effect::Record
            );
        }
        let refunded = payment(PaymentStatus::Refunded, 14_400);
        assert_eq!(
            decide(booking(Status::Confirmed), &refunded, true),
            Effect::Reverse
        );
        assert_eq!(
            decide(booking(Status::PreReserved), &refunded, false),
            Effect::Record
        );
    }

    #[test]
    fn a_dispute_won_counts_the_payment_again() {
        let now = Timestamp::UNIX_EPOCH;
        let mut r = PaymentRecord::new(&payment(PaymentStatus::Approved, 1), now);
        assert!(r.observe(&payment(PaymentStatus::Approved, 1), now));
        let disputed = payment(PaymentStatus::InMediation, 14_400);
        assert!(r.observe(&disputed, now));
        assert_eq!(
            decide(booking(Status::Confirmed), &disputed, true),
            Effect::Reverse
        );
        let won = payment(PaymentStatus::Approved, 14_400);
        assert!(r.observe(&won, now));
        assert_eq!(
            decide(booking(Status::Confirmed), &won, false),
            Effect::Count
        );
    }

    #[test]
    fn a_payment_confirms_counts_and_a_reversal_takes_it_back_out() {
        let now = Timestamp::UNIX_EPOCH;
        let mut r = crate::domain::reservation::tests::hold(now);
        let approved = payment(PaymentStatus::Approved, 14_400);
        let mut record = PaymentRecord::new(&approved, now);
        record.observe(&approved, now);
        let free = |_: &Reservation| Ok::<_, ()>(true);
        let applied = apply_report(
            &mut record,
            Some(&mut r),
            &approved,
            (true, true),
            now,
            free,
        )
        .unwrap();
        assert_eq!(applied.outcome, Outcome::Confirmed(r.channel));
        assert_eq!(applied.events.len(), 2, "the guest and the host hear of it");
        assert_eq!(
            (r.status, r.payment.paid),
            (Status::Confirmed, approved.amount)
        );
        assert_eq!(r.payment.state, PaymentState::PartiallyPaid);
        let refunded = payment(PaymentStatus::Refunded, 14_400);
        record.observe(&refunded, now);
        let applied = apply_report(
            &mut record,
            Some(&mut r),
            &refunded,
            (false, true),
            now,
            free,
        )
        .unwrap();
        assert_eq!(applied.outcome, Outcome::Reversed);
        assert_eq!((r.status, r.payment.paid), (Status::Confirmed, Money::ZERO));
        assert!(record.flags.contains(&PaymentFlag::Reversed) && !record.counted);
    }

    #[test]
    fn a_payment_for_taken_dates_needs_a_refund_and_one_naming_nothing_is_an_orphan() {
        let now = Timestamp::UNIX_EPOCH;
        let mut r = crate::domain::reservation::tests::hold(now);
        let approved = payment(PaymentStatus::Approved, 14_400);
        let mut record = PaymentRecord::new(&approved, now);
        let taken = |_: &Reservation| Ok::<_, ()>(false);
        let applied = apply_report(
            &mut record,
            Some(&mut r),
            &approved,
            (true, true),
            now,
            taken,
        )
        .unwrap();
        assert_eq!(applied.outcome, Outcome::NeedsRefund);
        assert_eq!(
            (r.status, r.payment.state),
            (Status::PreReserved, PaymentState::NeedsRefund)
        );
        let mut orphan = PaymentRecord::new(&approved, now);
        let unasked = |_: &Reservation| -> Result<bool, ()> { unreachable!() };
        let applied =
            apply_report(&mut orphan, None, &approved, (true, true), now, unasked).unwrap();
        assert_eq!(applied.outcome, Outcome::Orphan);
        assert!(orphan.flags.contains(&PaymentFlag::Orphan));
        assert_eq!(applied.events[0].kind, EventKind::OrphanPayment);
    }
}
