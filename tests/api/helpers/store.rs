//! The store on a real redb file, without HTTP: open it, add a room, book through it.

use std::time::Duration;

use alojamientos::app::accommodations::new_export_settings;
use alojamientos::domain::accommodation::AccommodationInput;
use alojamientos::domain::booking::{NewReservation, ReserveError, ReservePolicy};
use alojamientos::domain::contact::Contact;
use alojamientos::domain::dates::NightRange;
use alojamientos::domain::hold_limits::HoldLimits;
use alojamientos::domain::ids::{AccommodationId, ReservationCode};
use alojamientos::domain::money::{Money, Rate};
use alojamientos::domain::reservation::{Actor, AuditEntry, Channel, Reservation, Status};
use alojamientos::store::{Replay, Store};
use jiff::civil::Date;
use serde_json::json;

/// Opens (creating) the store in `dir`, with its writer thread.
pub fn open(dir: &std::path::Path) -> (Store, std::thread::JoinHandle<()>) {
    Store::open(dir, Duration::from_secs(5), 1 << 20).unwrap()
}

/// Adds a two-guest room at 100 a night, no minimum stay; returns its id.
pub async fn add_room(store: &Store, name: &str) -> AccommodationId {
    let input = json!({"name": name, "kind": "room", "capacity": 2, "base_price": "100"});
    let spec = serde_json::from_value::<AccommodationInput>(input)
        .unwrap()
        .validate()
        .unwrap();
    let export = new_export_settings(jiff::Timestamp::now());
    store.create_accommodation(spec, export).await.unwrap().id
}

/// Holds of 30 minutes, at most 30 nights, in Buenos Aires.
pub fn policy() -> ReservePolicy {
    ReservePolicy {
        time_zone: jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap(),
        hold: Duration::from_secs(1800),
        deposit_share: Rate::percent(30),
        currency: "ARS".into(),
        max_nights: 30,
        limits: HoldLimits::OFF,
    }
}

/// Today in the policy's time zone.
pub fn today() -> Date {
    policy()
        .time_zone
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// A one-guest stay of `[check_in, check_out)`, a hold unless `confirmed`.
pub fn stay(
    accommodation_id: AccommodationId,
    check_in: Date,
    check_out: Date,
    confirmed: bool,
) -> NewReservation {
    NewReservation {
        accommodation_id,
        check_in,
        check_out,
        guests: 1,
        contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
        channel: if confirmed {
            Channel::Phone
        } else {
            Channel::Web
        },
        confirmed,
        actor: if confirmed {
            Actor::System
        } else {
            Actor::Guest
        },
        note: "test".into(),
        client_address: None,
    }
}

/// Books `req` without an idempotency key.
pub async fn reserve(
    store: &Store,
    req: NewReservation,
    policy: ReservePolicy,
) -> Result<Reservation, ReserveError> {
    let remember_nothing = |_: &_| -> Option<()> { unreachable!("no idempotency key") };
    match store
        .reserve(req, policy, |_| String::new(), None, remember_nothing)
        .await
        .unwrap()
    {
        Replay::Fresh(outcome) => outcome,
        _ => unreachable!("no idempotency key"),
    }
}

/// Reservation number `n` (its code's last byte) of `acc` for `range`, in `status` since `at`,
/// as a bulk load writes it.
pub fn record(
    n: u8,
    acc: AccommodationId,
    range: NightRange,
    status: Status,
    at: jiff::Timestamp,
) -> Reservation {
    Reservation {
        code: ReservationCode::generate(jiff::civil::date(2031, 1, 1), [0, 0, n]),
        accommodation_id: acc,
        range,
        guests: 1,
        contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
        channel: Channel::Web,
        status,
        nightly: vec![],
        total: Money::ZERO,
        deposit: Money::ZERO,
        currency: "ARS".into(),
        created_at: at,
        expires_at: None,
        access_token_sha256: "0".repeat(64),
        history: vec![AuditEntry {
            at,
            from: None,
            to: status,
            actor: Actor::System,
            reason: "test".into(),
        }],
        payment: Default::default(),
        hold_client: None,
    }
}
