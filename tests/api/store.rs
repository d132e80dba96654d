//! The store on a real redb file: schema version, completion of past stays, reopen.

use std::time::Duration;

use alojamientos::domain::reservation::{Actor, Status};
use alojamientos::store::{Replay, Store, StoreError, schema};
use jiff::ToSpan;

use crate::helpers::store::{add_room, open, policy, reserve, stay};

#[tokio::test]
async fn confirmed_stays_are_completed_once_their_check_out_day_comes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let today = policy()
        .time_zone
        .to_datetime(jiff::Timestamp::now())
        .date();
    let req = stay(acc, today, today.checked_add(2.days()).unwrap(), true);
    let created = reserve(&store, req, policy())
        .await
        .expect("the booking is created");
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
        let (store, writer) = open(dir.path());
        let acc = add_room(&store, "A").await;
        let today = policy()
            .time_zone
            .to_datetime(jiff::Timestamp::now())
            .date();
        let (from, to) = (10.days(), 12.days());
        let req = stay(acc, today + from, today + to, false);
        let hash = alojamientos::secret::sha256_hex(&old_token);
        let reserved = store.reserve(req, policy(), move |_| hash, None, |_| None::<()>);
        let Ok(Replay::Fresh(Ok(r))) = reserved.await else {
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
