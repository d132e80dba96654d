//! The index on a real redb file: what a check reads does not grow with history, and what it
//! finds is exactly what overlaps.

use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use redb::{Database, ReadableDatabase};

use super::*;
use crate::store::schema;

fn store(dir: &tempfile::TempDir) -> Database {
    let db = Database::create(dir.path().join("index.redb")).unwrap();
    schema::migrate(&db).unwrap();
    db
}

fn nights(from: Date, n: i64) -> NightRange {
    NightRange::new(from, from.checked_add(n.days()).unwrap()).unwrap()
}

fn held(range: NightRange, hold_expires_at: Option<Timestamp>) -> Occupancy {
    Occupancy {
        range,
        hold_expires_at,
    }
}

/// Entries read by one check of `window` on accommodation 1.
fn reads(db: &Database, window: &NightRange) -> usize {
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(OCCUPANCY).unwrap();
    scan(&table, 1, window, |_, _| {}).unwrap()
}

/// Accommodation 1 with `years` of back-to-back past stays (1 to 9 nights, every 60th one of 90
/// nights) up to 2030-01-01, with lapsed holds among them, then the same near future: a confirmed stay, a live hold and a
/// long imported block next to the checked window. Accommodation 2 gets the same history.
fn with_history(db: &Database, years: i64) {
    let today = date(2030, 1, 1);
    let lapsed = Timestamp::from_second(1_000_000_000).unwrap();
    let live = Timestamp::from_second(4_000_000_000).unwrap();
    let txn = db.begin_write().unwrap();
    for acc in [1, 2] {
        let first = today.checked_sub((years * 365).days()).unwrap();
        let (mut day, mut i) = (today, 0);
        while day > first {
            let n = if i % 60 == 0 { 90 } else { 1 + i % 9 };
            let range = NightRange::new(day.checked_sub(n.days()).unwrap(), day).unwrap();
            put(&txn, acc, &format!("RES{i:012}"), &held(range, None)).unwrap();
            if i % 60 == 1 {
                let hold = held(range, Some(lapsed));
                put(&txn, acc, &format!("RESL{i:011}"), &hold).unwrap();
            }
            day = range.check_in();
            i += 1;
        }
        let future = [
            ("RESF00000000001", nights(date(2030, 1, 10), 3), None),
            ("RESF00000000002", nights(date(2030, 1, 14), 2), Some(live)),
            ("IMPF0000000003", nights(date(2030, 1, 20), 120), None),
            ("BLKF0000004", nights(date(2030, 6, 1), 30), None),
        ];
        for (code, range, expiry) in future {
            put(&txn, acc, code, &held(range, expiry)).unwrap();
        }
    }
    txn.commit().unwrap();
}

#[test]
fn an_availability_check_reads_the_same_entries_whatever_the_history() {
    let windows = [
        nights(date(2030, 1, 2), 1),
        nights(date(2030, 1, 11), 5),
        nights(date(2030, 2, 1), 7),
        nights(date(2031, 3, 1), 2),
    ];
    let short = tempfile::tempdir().unwrap();
    let long = tempfile::tempdir().unwrap();
    let (short, long) = (store(&short), store(&long));
    with_history(&short, 1);
    with_history(&long, 30);
    for window in &windows {
        let (a, b) = (reads(&short, window), reads(&long, window));
        assert_eq!(
            a, b,
            "{window:?}: 1 year of history reads {a}, 30 years {b}"
        );
        assert!(b <= 4, "{window:?} reads {b} entries");
    }
}

#[test]
fn reservations_ended_by_a_day_are_found_on_every_accommodation_and_class() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(&dir);
    let txn = db.begin_write().unwrap();
    let entries = [
        (1, "RES250101000001", nights(date(2025, 1, 1), 2)),
        (1, "RES250101000002", nights(date(2025, 1, 1), 40)),
        (7, "RES250101000003", nights(date(2024, 10, 1), 92)),
        (7, "RES250101000004", nights(date(2025, 1, 5), 1)),
        (7, "BLK00000001", nights(date(2024, 12, 1), 3)),
        (u64::MAX, "RES250101000005", nights(date(2024, 12, 1), 3)),
    ];
    for (acc, code, range) in entries {
        put(&txn, acc, code, &held(range, None)).unwrap();
    }
    let mut ended = reservations_ended_by(&txn, date(2025, 1, 3)).unwrap();
    ended.sort();
    assert_eq!(
        ended,
        ["RES250101000001", "RES250101000003", "RES250101000005"]
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the lengths and places of the entries, a check finds exactly those that share
    /// a night with its window, and `is_free` agrees with the domain rule over all of them.
    #[test]
    fn a_check_finds_exactly_the_overlapping_entries(
        entries in prop::collection::vec((0i64..400, 1i64..200, any::<bool>()), 0..60),
        start in 0i64..400,
        length in 1i64..40,
    ) {
        let base = date(2030, 1, 1);
        let now = Timestamp::from_second(2_000_000_000).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = store(&dir);
        let txn = db.begin_write().unwrap();
        let mut all = Vec::new();
        for (i, (from, n, lapsed)) in entries.into_iter().enumerate() {
            let expiry = lapsed.then(|| now - 1.hour());
            let o = held(nights(base.checked_add(from.days()).unwrap(), n), expiry);
            let code = format!("RES{i:012}");
            put(&txn, 1, &code, &o).unwrap();
            put(&txn, 2, &code, &held(o.range, None)).unwrap();
            all.push((code, o));
        }
        let window = nights(base.checked_add(start.days()).unwrap(), length);
        let table = txn.open_table(OCCUPANCY).unwrap();
        let mut found = overlapping(&table, 1, &window).unwrap();
        drop(table);
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let expected: Vec<_> = all.iter().filter(|(_, o)| o.range.overlaps(&window)).cloned().collect();
        prop_assert_eq!(&found, &expected);
        let taken: Vec<Occupancy> = all.iter().map(|(_, o)| *o).collect();
        prop_assert_eq!(
            is_free(&txn, 1, &window, now, None).unwrap(),
            crate::domain::availability::is_free(&window, &taken, now)
        );
    }
}
