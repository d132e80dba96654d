//! The store on a real redb file: schema version, completion of past stays, reopen.

use std::time::Duration;

use alojamientos::app::accommodations::new_export_settings;
use alojamientos::domain::accommodation::{AccommodationInput, Kind};
use alojamientos::domain::booking::{NewReservation, ReservePolicy};
use alojamientos::domain::contact::Contact;
use alojamientos::domain::hold_limits::HoldLimits;
use alojamientos::domain::money::{Money, Rate};
use alojamientos::domain::reservation::{Actor, Channel, Status};
use alojamientos::store::{Replay, Store, StoreError, schema};
use jiff::ToSpan;

fn policy() -> ReservePolicy {
    ReservePolicy {
        time_zone: jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap(),
        hold: Duration::from_secs(1800),
        deposit_share: Rate::percent(30),
        currency: "ARS".into(),
        max_nights: 30,
        limits: HoldLimits::OFF,
    }
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, Duration::from_secs(5), 1 << 20).unwrap().0
}

fn remember_nothing<T>(_: &T) -> Option<()> {
    unreachable!("no idempotency key")
}

#[tokio::test]
async fn confirmed_stays_are_completed_once_their_check_out_day_comes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let spec = AccommodationInput {
        name: "A".into(),
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
    .unwrap();
    let export = new_export_settings(jiff::Timestamp::now());
    let acc = store.create_accommodation(spec, export).await.unwrap();
    let today = policy()
        .time_zone
        .to_datetime(jiff::Timestamp::now())
        .date();
    let req = NewReservation {
        accommodation_id: acc.id,
        check_in: today,
        check_out: today.checked_add(2.days()).unwrap(),
        guests: 1,
        contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
        channel: Channel::Phone,
        confirmed: true,
        actor: Actor::System,
        note: "test".into(),
        client_address: None,
    };
    let reserved = store.reserve(req, policy(), |_| String::new(), None, remember_nothing);
    let Replay::Fresh(Ok(created)) = reserved.await.unwrap() else {
        panic!("the booking is created")
    };
    let code = created.code.clone();
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(1.day()).unwrap())
            .await
            .unwrap(),
        0,
        "not before check-out"
    );
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(2.days()).unwrap())
            .await
            .unwrap(),
        1
    );
    let r = store.reservation(&code).unwrap().unwrap();
    assert_eq!(r.status, Status::Completed);
    assert_eq!(r.history.last().unwrap().actor, Actor::System);
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(9.days()).unwrap())
            .await
            .unwrap(),
        0,
        "only once"
    );
}

#[tokio::test]
async fn the_schema_version_is_recorded_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        store.close().await;
        drop(store);
        writer.join().unwrap();
    }
    let path = dir.path().join(alojamientos::store::STORE_FILE);
    {
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(schema::version(&db).unwrap(), Some(schema::CURRENT_VERSION));
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap()
            .insert("schema_version", schema::CURRENT_VERSION + 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(dir.path(), Duration::from_secs(5), 1 << 20)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }));
    assert!(err.to_string().contains("roll back"), "{err}");
}
