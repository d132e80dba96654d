//! The store on a real redb file, without HTTP: open it, add a room, book through it.

use std::time::Duration;

use alojamientos::domain::accommodation::{AccommodationInput, AccommodationSpec, Kind};
use alojamientos::domain::contact::Contact;
use alojamientos::domain::money::{Money, Rate};
use alojamientos::domain::reservation::{Actor, Channel};
use alojamientos::store::{
    Created, NewReservation, Replay, ReserveError, ReservePolicy, Store, StoredResponse,
};
use jiff::civil::Date;

/// Opens (creating) the store in `dir`, with its writer thread.
pub fn open(dir: &std::path::Path) -> (Store, std::thread::JoinHandle<()>) {
    Store::open(dir, Duration::from_secs(5), 1 << 20).unwrap()
}

/// A two-guest room at 100 a night, no minimum stay.
pub fn room(name: &str) -> AccommodationSpec {
    AccommodationInput {
        name: name.into(),
        kind: Kind::Room,
        capacity: 2,
        base_price: Money::from_units(100),
        weekend_multiplier: None,
        weekend_nights: None,
        min_stay: None,
        seasons: vec![],
        active: None,
        description: None,
    }
    .validate()
    .unwrap()
}

/// Holds of 30 minutes, at most 30 nights, in Buenos Aires.
pub fn policy() -> ReservePolicy {
    ReservePolicy {
        time_zone: jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap(),
        hold: Duration::from_secs(1800),
        deposit_share: Rate::percent(30),
        currency: "ARS".into(),
        max_nights: 30,
    }
}

/// A one-guest stay of `[check_in, check_out)` on `accommodation_id`, a hold unless `confirmed`.
pub fn stay(
    accommodation_id: u64,
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
    }
}

/// Books `req` without an idempotency key.
pub async fn reserve(
    store: &Store,
    req: NewReservation,
    policy: ReservePolicy,
) -> Result<Created, ReserveError> {
    let no_render = |_: &_| -> StoredResponse { unreachable!("no idempotency key") };
    match store.reserve(req, policy, None, no_render).await.unwrap() {
        Replay::Fresh(outcome) => outcome,
        _ => unreachable!("no idempotency key"),
    }
}
