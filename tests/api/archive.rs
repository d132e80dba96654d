//! The archive of closed reservations (`store/archive.rs`) on real redb files: the pass moves
//! only what can no longer change, every read still finds what moved, a write to an archived
//! reservation lands in the live file and wins, a copy interrupted before the live file let go
//! loses and duplicates nothing, a snapshot is one whole store again, and `check` audits the
//! archive file too.

use alojamientos::app::archive::archive_closed;
use alojamientos::domain::booking::{ChangeError, ChangeRequest};
use alojamientos::domain::dates::NightRange;
use alojamientos::domain::ids::{AccommodationId, ReservationCode};
use alojamientos::domain::money::Money;
use alojamientos::domain::payment::{PaymentState, PaymentStatus, ProviderPayment};
use alojamientos::domain::reservation::{Actor, Reservation, Status};
use alojamientos::store::{ARCHIVE_FILE, ImportError, ReservationFilter, Store, backup};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use redb::TableDefinition;

use crate::helpers::binary::verb;
use crate::helpers::store::{add_room, open, record};

fn march(from: i8, to: i8) -> NightRange {
    NightRange::new(date(2031, 3, from), date(2031, 3, to)).unwrap()
}

fn code(n: u8) -> ReservationCode {
    record(
        n,
        AccommodationId::new(1),
        march(1, 2),
        Status::Cancelled,
        Timestamp::now(),
    )
    .code
}

fn numbers(items: &[Reservation]) -> Vec<u8> {
    let last_byte = |r: &Reservation| u8::from_str_radix(&r.code.as_str()[13..], 16).unwrap();
    items.iter().map(last_byte).collect()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// When the archive pass runs in these tests: five days from now, so reservations closed three
/// days ago have been closed for over a week by then, and one closed just now has not.
fn pass_time() -> Timestamp {
    Timestamp::now() + days(5)
}

/// A room with a confirmed stay (1), two reservations closed three days ago (2, 3) and one
/// cancelled just now (4), all in the live file.
async fn four(store: &Store) -> AccommodationId {
    let acc = add_room(store, "A").await;
    let now = Timestamp::now();
    let all = vec![
        record(1, acc, march(1, 5), Status::Confirmed, now - days(30)),
        record(2, acc, march(5, 8), Status::Cancelled, now - days(3)),
        record(3, acc, march(8, 9), Status::Expired, now - days(3)),
        record(4, acc, march(9, 12), Status::Cancelled, now),
    ];
    assert_eq!(store.import_reservations(all).await.unwrap(), Ok(4));
    assert_eq!(store.archived_count().unwrap(), 0);
    acc
}

fn approved(id: &str, code: &ReservationCode) -> ProviderPayment {
    ProviderPayment {
        id: id.into(),
        status: PaymentStatus::Approved,
        status_detail: "accredited".into(),
        amount: Money::from_cents(10_000),
        currency: "ARS".into(),
        external_reference: Some(code.to_string()),
    }
}

#[tokio::test]
async fn closed_reservations_move_to_the_archive_and_every_read_still_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer) = open(dir.path());
    let acc = four(&store).await;

    assert_eq!(archive_closed(&store, pass_time()).await.unwrap(), 2);
    assert_eq!(store.archived_count().unwrap(), 2);
    assert_eq!(archive_closed(&store, pass_time()).await.unwrap(), 0);

    for n in 1..=4 {
        let found = store.reservation(&code(n)).unwrap();
        assert_eq!(found.map(|r| r.code), Some(code(n)), "reservation {n}");
    }
    let first = store
        .list_reservations(&ReservationFilter::default(), None, 3)
        .unwrap();
    assert_eq!(numbers(&first.items), [4, 3, 2]);
    let rest = store
        .list_reservations(
            &ReservationFilter::default(),
            first.next_cursor.as_deref(),
            3,
        )
        .unwrap();
    assert_eq!((numbers(&rest.items), rest.next_cursor), (vec![1], None));
    let cancelled = ReservationFilter {
        status: Some(Status::Cancelled),
        ..Default::default()
    };
    assert_eq!(
        numbers(&store.all_reservations(&cancelled).unwrap()),
        [4, 2]
    );

    let confirm = ChangeRequest {
        to: Status::Confirmed,
        actor: Actor::System,
        reason: "test".into(),
    };
    let refused = store.change_status(code(2), confirm).await.unwrap();
    assert!(
        matches!(refused, Err(ChangeError::InvalidState { .. })),
        "{refused:?}"
    );
    let again = record(2, acc, march(20, 21), Status::Confirmed, Timestamp::now());
    assert_eq!(
        store.import_reservations(vec![again]).await.unwrap(),
        Err(ImportError::Code(code(2).to_string()))
    );
    let old = record(
        5,
        acc,
        march(1, 3),
        Status::Cancelled,
        Timestamp::now() - days(30),
    );
    assert_eq!(store.import_reservations(vec![old]).await.unwrap(), Ok(1));
    assert_eq!(
        store.archived_count().unwrap(),
        3,
        "a bulk load files old ones there"
    );

    let snapshot = dir.path().join("backups/snap.redb");
    assert_eq!(store.snapshot_to(&snapshot).unwrap().reservations, 5);
    store.close().await;
    drop(store);
    writer.join().unwrap();

    let (store, writer) = open(dir.path());
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [5, 4, 3, 2, 1], "after a restart");
    store.close().await;
    drop(store);
    writer.join().unwrap();

    let restored = tempfile::tempdir().unwrap();
    backup::restore(restored.path(), &snapshot).unwrap();
    let (store, _writer) = open(restored.path());
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [5, 4, 3, 2, 1], "restored from the snapshot");
    assert_eq!(store.archived_count().unwrap(), 0);
}

#[tokio::test]
async fn a_restore_sets_the_replaced_archive_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer) = open(dir.path());
    four(&store).await;
    let snapshot = dir.path().join("snap.redb");
    store.snapshot_to(&snapshot).unwrap();
    archive_closed(&store, pass_time()).await.unwrap();
    store.close().await;
    drop(store);
    writer.join().unwrap();

    backup::restore(dir.path(), &snapshot).unwrap();
    let (store, _writer) = open(dir.path());
    assert_eq!(store.archived_count().unwrap(), 0);
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("alojamientos-archive.redb.replaced-"))
        .count();
    assert_eq!(aside, 1);
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [4, 3, 2, 1]);
}

#[tokio::test]
async fn a_late_payment_for_an_archived_reservation_lands_live_and_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    four(&store).await;
    archive_closed(&store, pass_time()).await.unwrap();

    store
        .apply_payment(approved("late-1", &code(2)))
        .await
        .unwrap();
    let r = store.reservation(&code(2)).unwrap().unwrap();
    assert_eq!(r.payment.state, PaymentState::NeedsRefund);
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [4, 3, 2, 1], "listed once");
    let listed = all.iter().find(|r| r.code == code(2)).unwrap();
    assert_eq!(listed.payment.state, PaymentState::NeedsRefund);
    assert_eq!(store.reservation_payments(&code(2)).unwrap().len(), 1);
}

#[tokio::test]
async fn a_copy_the_live_file_has_not_let_go_of_is_read_once_and_a_changed_record_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    four(&store).await;

    // The pass's two steps with a crash (or a payment) between them.
    let step = store.copy_to_archive(None, pass_time()).unwrap();
    assert_eq!(store.archived_count().unwrap(), 2);
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [4, 3, 2, 1], "each once while in both files");
    let snapshot = dir.path().join("snap.redb");
    assert_eq!(store.snapshot_to(&snapshot).unwrap().reservations, 4);

    store
        .apply_payment(approved("late-3", &code(3)))
        .await
        .unwrap();
    assert_eq!(store.forget_archived(step).await.unwrap(), 1, "only 2 left");
    let r = store.reservation(&code(3)).unwrap().unwrap();
    assert_ne!(
        r.payment.state,
        PaymentState::default(),
        "the live change wins"
    );
    let all = store
        .all_reservations(&ReservationFilter::default())
        .unwrap();
    assert_eq!(numbers(&all), [4, 3, 2, 1]);
}

#[tokio::test]
async fn check_audits_the_archive_beside_the_live_store_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, writer) = open(dir.path());
    four(&store).await;
    assert_eq!(archive_closed(&store, pass_time()).await.unwrap(), 2);
    store.close().await;
    drop(store);
    writer.join().unwrap();
    let archive = dir.path().join(ARCHIVE_FILE);
    let before = std::fs::read(&archive).unwrap();

    let (ok, stdout, stderr) = verb(dir.path(), &["check"]).await;
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&report["reservations"], &report["archived_reservations"]),
        (&2.into(), &2.into())
    );
    assert!(stderr.contains(&format!("{ARCHIVE_FILE}: ok")), "{stderr}");
    assert!(std::fs::read(&archive).unwrap() == before, "only read");

    let db = redb::Database::open(&archive).unwrap();
    let txn = db.begin_write().unwrap();
    let table = TableDefinition::<&str, &[u8]>::new("archived_reservations");
    txn.open_table(table)
        .unwrap()
        .insert("ZZZZ", b"{\"code\": 7".as_slice())
        .unwrap();
    txn.commit().unwrap();
    drop(db);
    let (ok, _, stderr) = verb(dir.path(), &["check"]).await;
    assert!(
        !ok,
        "an archived record that does not decode fails the check"
    );
    assert!(stderr.contains(ARCHIVE_FILE), "names the file: {stderr}");
}
