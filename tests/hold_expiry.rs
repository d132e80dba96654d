//! The hold-expiry job works through a backlog in bounded commits and expires all of it.

use std::time::Duration;

use alojamientos::domain::accommodation::{AccommodationInput, Kind};
use alojamientos::domain::contact::Contact;
use alojamientos::domain::money::{Money, Rate};
use alojamientos::domain::reservation::{Actor, Channel};
use alojamientos::store::{NewReservation, Replay, ReservePolicy, Store, StoredResponse};
use jiff::ToSpan;
use jiff::civil::date;

#[tokio::test]
async fn a_backlog_of_lapsed_holds_is_expired_by_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
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
    let acc = store.create_accommodation(spec).await.unwrap().id;
    let policy = ReservePolicy {
        time_zone: jiff::tz::TimeZone::UTC,
        hold: Duration::from_millis(1),
        deposit_share: Rate::percent(30),
        currency: "ARS".into(),
        max_nights: 30,
    };
    let holds = 700;
    let mut taken = tokio::task::JoinSet::new();
    for night in 0..holds {
        let check_in = date(2031, 1, 1).checked_add(night.days()).unwrap();
        let req = NewReservation {
            accommodation_id: acc,
            check_in,
            check_out: check_in.tomorrow().unwrap(),
            guests: 1,
            contact: Contact::new("Ana", "+5491122334455", None, "54").unwrap(),
            channel: Channel::Web,
            confirmed: false,
            actor: Actor::Guest,
            note: "test".into(),
        };
        let (store, policy) = (store.clone(), policy.clone());
        let no_render = |_: &_| -> StoredResponse { unreachable!("no idempotency key") };
        taken.spawn(async move { store.reserve(req, policy, None, no_render).await });
    }
    let mut lapse = jiff::Timestamp::UNIX_EPOCH;
    while let Some(hold) = taken.join_next().await {
        let Ok(Replay::Fresh(Ok(created))) = hold.unwrap() else {
            panic!("every hold is taken")
        };
        lapse = lapse.max(created.reservation.expires_at.unwrap());
    }
    while jiff::Timestamp::now() <= lapse {
        tokio::task::yield_now().await;
    }
    assert_eq!(store.live_holds().unwrap(), holds as u64);
    let expired = store.expire_lapsed_holds().await.unwrap();
    assert_eq!(
        expired.len(),
        holds as usize,
        "more than two commits' worth"
    );
    assert_eq!(store.live_holds().unwrap(), 0);
}
