//! Domain events for guests and the host, recorded in the store's outbox for the messaging
//! issue to deliver.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Who should hear about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Guest,
    Host,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The deposit arrived and the stay is confirmed.
    BookingConfirmed,
    /// A payment arrived but stays under the deposit.
    PaymentUnderDeposit,
    /// A payment arrived in another currency.
    PaymentCurrencyMismatch,
    /// A payment arrived that must be refunded (the dates or the stay are gone).
    PaymentNeedsRefund,
    /// A counted payment was refunded, charged back or disputed.
    PaymentReversed,
    /// A payment names no reservation of ours.
    OrphanPayment,
}

/// One event waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainEvent {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub kind: EventKind,
    pub audience: Audience,
    pub reservation_code: Option<String>,
    pub payment_id: Option<String>,
}
