//! A store written by schema 1 (occupancy keyed by check-in; made by the binary of main at
//! 021c8ec with tests/fixtures/store-v1/make.sh) opens under this binary: the index is rebuilt
//! by length class and check-out, every entry keeps its dates, and they still block bookings.

use alojamientos::domain::booking::ReserveError;
use alojamientos::domain::dates::NightRange;
use alojamientos::domain::ids::AccommodationId;
use alojamientos::store::{STORE_FILE, Store, schema};
use std::collections::BTreeSet;
use std::io::Read;

use crate::helpers::store::{open, policy, reserve, stay};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

const V1_OCCUPANCY: TableDefinition<(u64, i32, &str), (i32, i64)> =
    TableDefinition::new("occupancy");

fn fixture(dir: &std::path::Path) {
    let gz = std::fs::File::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/store-v1/store-v1.redb.gz"
    ))
    .unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(dir.join(STORE_FILE), bytes).unwrap();
}

fn day(key: i32) -> Date {
    date(
        (key / 10_000) as i16,
        (key / 100 % 100) as i8,
        (key % 100) as i8,
    )
}

/// (accommodation, check-in, check-out, hold expiry) of every schema-1 index entry.
type Entry = (u64, Date, Date, Option<Timestamp>);

fn v1_entries(dir: &std::path::Path) -> BTreeSet<Entry> {
    let db = Database::open(dir.join(STORE_FILE)).unwrap();
    assert_eq!(schema::version(&db).unwrap(), Some(1));
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(V1_OCCUPANCY).unwrap();
    table
        .iter()
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            let (acc, check_in, _) = k.value();
            let (check_out, expires) = v.value();
            let expiry =
                (expires != i64::MAX).then(|| Timestamp::from_millisecond(expires).unwrap());
            (acc, day(check_in), day(check_out), expiry)
        })
        .collect()
}

async fn book(store: &Store, acc: u64, from: Date, to: Date) -> Result<String, ReserveError> {
    let acc = AccommodationId::new(acc);
    reserve(store, stay(acc, from, to, true), policy())
        .await
        .map(|r| r.code.to_string())
}

#[tokio::test]
async fn a_schema_1_store_is_migrated_and_keeps_every_held_date() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let before = v1_entries(dir.path());
    assert_eq!(
        before.len(),
        11,
        "the fixture's live stays, holds and blocks"
    );
    assert!(
        before
            .iter()
            .any(|(_, a, b, _)| a.until(*b).unwrap().get_days() > 62),
        "the fixture has long entries"
    );

    let (store, writer) = open(dir.path());
    let everything = NightRange::new(date(2000, 1, 1), date(2199, 1, 1)).unwrap();
    let mut after = BTreeSet::new();
    for acc in 1..=3 {
        let (_, taken) = store
            .accommodation_with_occupancy(AccommodationId::new(acc), everything)
            .unwrap()
            .unwrap();
        after.extend(taken.into_iter().map(|o| {
            (
                acc,
                o.range.check_in(),
                o.range.check_out(),
                o.hold_expires_at,
            )
        }));
    }
    assert_eq!(after, before);

    // Taken by a 110-night stay, an 8-month block and a year-long imported block: all refused.
    for (acc, from, to) in [
        (1, date(2031, 4, 1), date(2031, 4, 3)),
        (2, date(2031, 6, 1), date(2031, 6, 3)),
        (3, date(2031, 6, 1), date(2031, 6, 3)),
        (1, date(2031, 1, 8), date(2031, 1, 9)),
    ] {
        assert_eq!(
            book(&store, acc, from, to).await,
            Err(ReserveError::DateOverlap),
            "{acc} {from}"
        );
    }
    // The cancelled stay's dates are free.
    assert!(
        book(&store, 1, date(2031, 7, 1), date(2031, 7, 5))
            .await
            .is_ok()
    );
    assert_eq!(
        store.complete_past_stays(date(2031, 1, 9)).await.unwrap(),
        2,
        "the two stays that ended by then"
    );
    store.close().await;
    drop(store);
    writer.join().unwrap();
    let db = Database::open(dir.path().join(STORE_FILE)).unwrap();
    assert_eq!(schema::version(&db).unwrap(), Some(schema::CURRENT_VERSION));
    let txn = db.begin_read().unwrap();
    let tables: Vec<String> = txn
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_owned())
        .collect();
    assert!(!tables.iter().any(|t| t == "occupancy"), "{tables:?}");
}
