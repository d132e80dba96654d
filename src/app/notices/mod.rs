//! What a domain event tells its audience, whatever the channel: the placeholders its texts
//! may use (reservation, guest, imported stay, chat). WhatsApp and email each pick their own
//! text for an event kind and fill it with these.

pub mod format;

use crate::config::Settings;
use crate::domain::events::DomainEvent;
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Reservation, Status};
use crate::store::{SkipUnreadable, Store, StoreError};

/// Placeholder name and value pairs.
pub type Vars = Vec<(&'static str, String)>;

/// An event with what its texts need.
pub struct Notice {
    /// The reservation the event names, as it is now.
    pub reservation: Option<Reservation>,
    pub vars: Vars,
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::PreReserved => "pendiente de pago",
        Status::Confirmed => "confirmada",
        Status::Cancelled => "cancelada",
        Status::Expired => "vencida",
        Status::Completed => "finalizada",
        Status::NoShow => "no presentada",
    }
}

/// The placeholders every reservation text may use.
pub fn reservation_vars(store: &Store, settings: &Settings, r: &Reservation) -> Vars {
    let accommodation = store
        .accommodation(r.accommodation_id)
        .ok()
        .flatten()
        .map(|a| a.spec.name)
        .unwrap_or_default();
    let expires_at = r
        .expires_at
        .map(|t| {
            settings
                .time_zone
                .to_datetime(t)
                .strftime("%H:%M")
                .to_string()
        })
        .unwrap_or_default();
    vec![
        ("code", r.code.to_string()),
        ("accommodation", accommodation),
        ("check_in", format::date(r.range.check_in())),
        ("check_out", format::date(r.range.check_out())),
        ("deposit", format::money(r.deposit)),
        ("total", format::money(r.total)),
        ("expires_at", expires_at),
        (
            "hold_minutes",
            settings.hold_duration.as_secs().div_ceil(60).to_string(),
        ),
        ("link", r.payment.payment_url.clone().unwrap_or_default()),
        ("status", status_text(r.status).into()),
        ("guests", r.guests.to_string()),
        ("channel", r.channel.as_str().into()),
        ("guest_name", r.contact.name().to_owned()),
        ("guest_phone", r.contact.phone().to_owned()),
        ("guest_email", r.contact.email().unwrap_or("-").to_owned()),
        ("property", settings.property_name.clone()),
    ]
}

/// Looks up what `event` names and gathers its placeholders. A named record that does not
/// decode is left out (the notice still goes, with the code), so one bad record never holds up
/// the notices after it.
pub fn describe(
    store: &Store,
    settings: &Settings,
    event: &DomainEvent,
) -> Result<Notice, StoreError> {
    let reservation = match event
        .reservation_code
        .as_deref()
        .and_then(ReservationCode::parse)
    {
        Some(code) => store.reservation(&code).skip_unreadable()?,
        None => None,
    };
    let mut vars = match &reservation {
        Some(r) => reservation_vars(store, settings, r),
        None => vec![
            (
                "code",
                event
                    .reservation_code
                    .clone()
                    .or_else(|| event.payment_id.clone())
                    .unwrap_or_default(),
            ),
            ("property", settings.property_name.clone()),
        ],
    };
    if let Some(phone) = &event.phone {
        vars.push(("phone", phone.clone()));
    }
    vars.push((
        "hours",
        settings
            .whatsapp
            .handover_timeout
            .as_secs()
            .div_ceil(3600)
            .to_string(),
    ));
    if let Some(stay) = match &event.imported_code {
        Some(code) => store.imported_stay(code).skip_unreadable()?,
        None => None,
    } {
        vars.push(("source", stay.source.as_str().into()));
        vars.push(("imported_check_in", format::date(stay.range.check_in())));
        vars.push(("imported_check_out", format::date(stay.range.check_out())));
    }
    Ok(Notice { reservation, vars })
}
