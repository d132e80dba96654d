//! Domain events for guests and the host, recorded in the store's event log in the same
//! transaction as the change they report; each messaging channel (WhatsApp, email) reads the
//! log with its own cursor and turns the events into messages.

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
    /// A guest took a hold (web, WhatsApp or any other guest channel).
    NewBooking,
    /// A hold lapsed without payment.
    HoldExpired,
    /// A stay imported from an OTA feed landed on a local booking or live hold.
    IcalConflict,
    /// A guest asked to talk to a person.
    Handover,
    /// A guest asked to cancel a confirmed stay.
    CancelRequest,
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
    /// The imported stay of an iCal conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_code: Option<String>,
    /// The guest's WhatsApp number (international digits) of a handover or cancel request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl DomainEvent {
    /// An event about reservation `code` (if any), with no other detail.
    pub fn new(kind: EventKind, audience: Audience, code: Option<String>, at: Timestamp) -> Self {
        DomainEvent {
            at,
            kind,
            audience,
            reservation_code: code,
            payment_id: None,
            imported_code: None,
            phone: None,
        }
    }
}
