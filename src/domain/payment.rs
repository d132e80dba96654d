//! Deposit payments: provider statuses, the payment record with its history, and what a
//! reservation keeps of its payments (link, paid amount, state). What a payment does to the
//! reservation it names is `deposit.rs`; a hold keeps its link through
//! `Reservation::attach_payment_link`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::money::Money;

/// A Mercado Pago payment status. Unknown values are kept as `unknown` (metrics stay bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    InProcess,
    Authorized,
    Approved,
    Rejected,
    Cancelled,
    Refunded,
    ChargedBack,
    InMediation,
    Unknown,
}

impl PaymentStatus {
    const ALL: [PaymentStatus; 10] = [
        PaymentStatus::Pending,
        PaymentStatus::InProcess,
        PaymentStatus::Authorized,
        PaymentStatus::Approved,
        PaymentStatus::Rejected,
        PaymentStatus::Cancelled,
        PaymentStatus::Refunded,
        PaymentStatus::ChargedBack,
        PaymentStatus::InMediation,
        PaymentStatus::Unknown,
    ];

    /// The provider's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::InProcess => "in_process",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Approved => "approved",
            PaymentStatus::Rejected => "rejected",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::ChargedBack => "charged_back",
            PaymentStatus::InMediation => "in_mediation",
            PaymentStatus::Unknown => "unknown",
        }
    }

    /// Reads the provider's status text; anything unexpected is `Unknown`.
    pub fn parse(text: &str) -> PaymentStatus {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(PaymentStatus::Unknown)
    }

    /// How far along a payment's life a status is: waiting (0), decided or disputed (1),
    /// money returned (2). A payment never moves back a stage, so a lower stage seen later is
    /// a stale, out-of-order report. A dispute (`in_mediation`) can end `approved` again.
    fn stage(self) -> u8 {
        match self {
            PaymentStatus::Pending
            | PaymentStatus::InProcess
            | PaymentStatus::Authorized
            | PaymentStatus::Unknown => 0,
            PaymentStatus::Approved
            | PaymentStatus::Rejected
            | PaymentStatus::Cancelled
            | PaymentStatus::InMediation => 1,
            PaymentStatus::Refunded | PaymentStatus::ChargedBack => 2,
        }
    }
}

/// A payment as the provider reports it (`GET /v1/payments/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPayment {
    pub id: String,
    pub status: PaymentStatus,
    pub status_detail: String,
    pub amount: Money,
    pub currency: String,
    /// The reservation code we sent as `external_reference`, if any.
    pub external_reference: Option<String>,
}

/// Something about a payment the host must look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentFlag {
    /// Its reference names no reservation of ours.
    Orphan,
    /// Approved, but the reservation's payments stay under the deposit.
    AmountMismatch,
    /// Approved in another currency than the reservation's.
    CurrencyMismatch,
    /// Approved for a stay that cannot be had any more: the money must go back.
    NeedsRefund,
    /// Refunded, charged back or disputed after it counted for a stay.
    Reversed,
}

/// One status a payment was seen in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub status: PaymentStatus,
    pub status_detail: String,
}

/// Our record of one provider payment (one per provider id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentRecord {
    /// The provider's payment id.
    pub id: String,
    pub provider: String,
    /// The reservation code it names (`external_reference`), whether or not it exists.
    pub reservation_code: Option<String>,
    pub status: PaymentStatus,
    pub status_detail: String,
    #[schema(value_type = String, example = "14400.00")]
    pub amount: Money,
    pub currency: String,
    /// Whether its amount counts in the reservation's paid amount.
    pub counted: bool,
    pub flags: Vec<PaymentFlag>,
    /// Times the payment was reported to us (notifications and reconciliation).
    pub events: u64,
    pub history: Vec<StatusEntry>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl PaymentRecord {
    /// A record for a payment seen for the first time (no status recorded yet).
    pub fn new(payment: &ProviderPayment, now: Timestamp) -> PaymentRecord {
        PaymentRecord {
            id: payment.id.clone(),
            provider: "mercadopago".into(),
            reservation_code: payment.external_reference.clone(),
            status: payment.status,
            status_detail: payment.status_detail.clone(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            counted: false,
            flags: vec![],
            events: 0,
            history: vec![],
            first_seen: now,
            updated_at: now,
        }
    }

    /// Counts a report of `payment` and says whether it is news. A new or later status is
    /// recorded in the history; the same status again, or an earlier-stage one (reports
    /// arriving out of order), changes nothing but the event count.
    pub fn observe(&mut self, payment: &ProviderPayment, now: Timestamp) -> bool {
        self.events += 1;
        let news = self.history.is_empty()
            || (payment.status != self.status && payment.status.stage() >= self.status.stage());
        if news {
            self.status = payment.status;
            self.status_detail = payment.status_detail.clone();
            self.amount = payment.amount;
            self.currency = payment.currency.clone();
            self.updated_at = now;
            self.history.push(StatusEntry {
                at: now,
                status: payment.status,
                status_detail: payment.status_detail.clone(),
            });
        }
        news
    }

    /// Adds `flag` once.
    pub fn flag(&mut self, flag: PaymentFlag) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
    }
}

/// Where a reservation stands with its payments.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    #[default]
    Unpaid,
    /// Something was paid, but less than the deposit.
    Underpaid,
    /// At least the deposit, less than the total.
    PartiallyPaid,
    Paid,
    /// Money arrived that cannot be kept (the stay could not be confirmed).
    NeedsRefund,
    /// A counted payment was refunded or charged back.
    Reversed,
}

/// The state that follows from what was paid.
pub fn paid_state(paid: Money, deposit: Money, total: Money) -> PaymentState {
    if paid >= total && paid > Money::ZERO {
        PaymentState::Paid
    } else if paid >= deposit && paid > Money::ZERO {
        PaymentState::PartiallyPaid
    } else if paid > Money::ZERO {
        PaymentState::Underpaid
    } else {
        PaymentState::Unpaid
    }
}

/// A reservation's payment link and what was paid (stored on the reservation).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentSummary {
    pub state: PaymentState,
    pub paid: Money,
    /// Checkout Pro preference of the current link.
    pub preference_id: Option<String>,
    /// Where the guest pays (`init_point`).
    pub payment_url: Option<String>,
    /// The hold expiry the link was made for (a new hold expiry needs a new link).
    pub link_expires_at: Option<Timestamp>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn payment(status: PaymentStatus, amount: i64) -> ProviderPayment {
        ProviderPayment {
            id: "42".into(),
            status,
            status_detail: "accredited".into(),
            amount: Money::from_units(amount),
            currency: "ARS".into(),
            external_reference: Some("RES250101000001".into()),
        }
    }

    #[test]
    fn statuses_round_trip_and_unknown_ones_stay_bounded() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), s);
        }
        assert_eq!(PaymentStatus::parse("weird"), PaymentStatus::Unknown);
    }

    #[test]
    fn the_same_or_an_earlier_status_is_not_news() {
        let now = Timestamp::UNIX_EPOCH;
        let mut r = PaymentRecord::new(&payment(PaymentStatus::Pending, 1), now);
        assert!(r.observe(&payment(PaymentStatus::Pending, 1), now));
        assert!(!r.observe(&payment(PaymentStatus::Pending, 1), now));
        assert!(r.observe(&payment(PaymentStatus::Approved, 1), now));
        assert!(!r.observe(&payment(PaymentStatus::InProcess, 1), now));
        assert!(r.observe(&payment(PaymentStatus::Refunded, 1), now));
        assert!(!r.observe(&payment(PaymentStatus::Approved, 1), now));
        assert_eq!(r.status, PaymentStatus::Refunded);
        assert_eq!(r.events, 6);
        let seen: Vec<_> = r.history.iter().map(|h| h.status).collect();
        assert_eq!(
            seen,
            [
                PaymentStatus::Pending,
                PaymentStatus::Approved,
                PaymentStatus::Refunded
            ]
        );
    }

    #[test]
    fn paid_state_follows_the_amounts() {
        let (d, t) = (Money::from_units(30), Money::from_units(100));
        assert_eq!(paid_state(Money::ZERO, d, t), PaymentState::Unpaid);
        assert_eq!(
            paid_state(Money::from_units(10), d, t),
            PaymentState::Underpaid
        );
        assert_eq!(paid_state(d, d, t), PaymentState::PartiallyPaid);
        assert_eq!(paid_state(t, d, t), PaymentState::Paid);
    }
}
