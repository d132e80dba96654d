//! JSON shapes of reservations and quotes as the API returns them.

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::ids::{AccommodationId, ReservationCode};
use crate::domain::money::Money;
use crate::domain::payment::PaymentState;
use crate::domain::pricing::NightPrice;
use crate::domain::reservation::{Actor, AuditEntry, Channel, Reservation, Status};

/// A reservation as its guest (with the access token) or an admin sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReservationView {
    #[schema(value_type = String)]
    pub code: ReservationCode,
    pub status: Status,
    #[schema(value_type = u64)]
    pub accommodation_id: AccommodationId,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "crate::domain::dates::serialize_date")]
    pub check_in: jiff::civil::Date,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "crate::domain::dates::serialize_date")]
    pub check_out: jiff::civil::Date,
    pub nights: u32,
    pub guests: u32,
    #[schema(value_type = String, example = "48000.00")]
    pub total_price: Money,
    #[schema(value_type = String, example = "14400.00")]
    pub deposit_amount: Money,
    pub currency: String,
    /// When the hold lapses (pre_reserved only).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    pub channel: Channel,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub nightly: Vec<NightPrice>,
    pub history: Vec<AuditEntry>,
    pub payment_status: PaymentState,
    #[schema(value_type = String, example = "14400.00")]
    pub paid_amount: Money,
    /// Where the guest pays the deposit (live holds with a Mercado Pago link).
    pub payment_url: Option<String>,
}

impl ReservationView {
    pub fn of(r: &Reservation) -> Self {
        ReservationView {
            code: r.code.clone(),
            status: r.status,
            accommodation_id: r.accommodation_id,
            check_in: r.range.check_in(),
            check_out: r.range.check_out(),
            nights: r.range.nights(),
            guests: r.guests,
            total_price: r.total,
            deposit_amount: r.deposit,
            currency: r.currency.clone(),
            expires_at: (r.status == Status::PreReserved)
                .then_some(r.expires_at)
                .flatten(),
            channel: r.channel,
            contact_name: r.contact.name().to_owned(),
            contact_phone: r.contact.phone().to_owned(),
            contact_email: r.contact.email().map(str::to_owned),
            created_at: r.created_at,
            nightly: r.nightly.clone(),
            history: r.history.clone(),
            payment_status: r.payment.state,
            paid_amount: r.payment.paid,
            payment_url: (r.status == Status::PreReserved)
                .then(|| r.payment.payment_url.clone())
                .flatten(),
        }
    }
}

impl ReservationView {
    /// The view for the guest: the host's email in the audit trail is left out.
    pub fn for_guest(r: &Reservation) -> Self {
        let mut view = Self::of(r);
        for entry in &mut view.history {
            if let Actor::Admin { email } = &mut entry.actor {
                email.clear();
            }
        }
        view
    }
}

/// The answer to a new reservation: the view plus the guest's access token, shown only once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedView {
    #[serde(flatten)]
    pub reservation: ReservationView,
    /// Bearer token for `GET /reservations/{code}` and cancel. Keep it secret.
    pub access_token: String,
}
