//! The store on a real redb file: schema version, completion of past stays, reopen.

use std::time::Duration;

use alojamientos::app::accommodations::new_export_settings;
use alojamientos::domain::accommodation::{Accommodation, AccommodationInput, Kind};
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

fn today() -> jiff::civil::Date {
    policy()
        .time_zone
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// A guest's two-night hold from `check_in` at `acc`.
fn two_nights(acc: &Accommodation, check_in: jiff::civil::Date) -> NewReservation {
    NewReservation {
        accommodation_id: acc.id,
        check_in,
        check_out: check_in.checked_add(2.days()).unwrap(),
        guests: 1,
        contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
        channel: Channel::Web,
        confirmed: false,
        actor: Actor::Guest,
        note: "test".into(),
        client_address: None,
    }
}

/// A two-person room, created through the store.
async fn room(store: &Store) -> Accommodation {
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
    store.create_accommodation(spec, export).await.unwrap()
}

#[tokio::test]
async fn confirmed_stays_are_completed_once_their_check_out_day_comes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let acc = room(&store).await;
    let today = today();
    let mut req = two_nights(&acc, today);
    (req.channel, req.confirmed, req.actor) = (Channel::Phone, true, Actor::System);
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

/// Reservations made before guest tokens were derived from the code keep their random
/// tokens: the hash stored then still opens them over HTTP.
#[tokio::test]
async fn tokens_of_reservations_made_before_derived_tokens_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let old_token = alojamientos::secret::random_hex(24);
    let code = {
        let (store, writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        let acc = room(&store).await;
        let req = two_nights(&acc, today().checked_add(10.days()).unwrap());
        let hash = alojamientos::secret::sha256_hex(&old_token);
        let reserved = store.reserve(req, policy(), move |_| hash, None, remember_nothing);
        let Replay::Fresh(Ok(r)) = reserved.await.unwrap() else {
            panic!("created")
        };
        store.close().await;
        drop(store);
        writer.join().unwrap();
        r.code.to_string()
    };
    let raw = crate::helpers::test_settings(dir.path());
    let app = crate::helpers::TestApp::spawn_in(raw, dir).await;
    let get = |token: String| {
        app.client
            .get(app.url(&format!("/api/v1/reservations/{code}")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get(old_token.clone()).await.unwrap().status(), 200);
    assert_eq!(get(format!("{old_token}0")).await.unwrap().status(), 404);
}
