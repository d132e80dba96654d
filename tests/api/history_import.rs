//! The bulk load (`Store::import_reservations`, used to seed the history benchmark) on a real
//! redb file: it never double-books, and a refused batch writes nothing.

use alojamientos::domain::dates::NightRange;
use alojamientos::domain::ids::{AccommodationId, ReservationCode};
use alojamientos::domain::reservation::{Reservation, Status};
use alojamientos::store::ImportError;
use jiff::Timestamp;
use jiff::civil::date;

use crate::helpers::store::{add_room, open, record};

fn stay(n: u8, acc: AccommodationId, from: i8, to: i8, status: Status) -> Reservation {
    let range = NightRange::new(date(2031, 3, from), date(2031, 3, to)).unwrap();
    record(n, acc, range, status, Timestamp::now())
}

#[tokio::test]
async fn a_batch_that_would_double_book_is_refused_whole_and_a_clean_one_lands() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let first = vec![
        stay(1, acc, 1, 5, Status::Confirmed),
        stay(2, acc, 5, 8, Status::Completed),
        stay(3, acc, 2, 4, Status::Cancelled),
    ];
    assert_eq!(store.import_reservations(first).await.unwrap(), Ok(3));

    let other = AccommodationId::new(acc.get() + 1);
    let refused = [
        (
            vec![
                stay(4, acc, 10, 12, Status::Confirmed),
                stay(5, acc, 11, 13, Status::Confirmed),
            ],
            ImportError::DateOverlap(stay(5, acc, 11, 13, Status::Confirmed).code.to_string()),
        ),
        (
            vec![
                stay(6, acc, 20, 22, Status::Confirmed),
                stay(7, acc, 4, 6, Status::Confirmed),
            ],
            ImportError::DateOverlap(stay(7, acc, 4, 6, Status::Confirmed).code.to_string()),
        ),
        (
            vec![
                stay(8, acc, 25, 26, Status::Confirmed),
                stay(1, acc, 27, 28, Status::Cancelled),
            ],
            ImportError::Code(stay(1, acc, 27, 28, Status::Cancelled).code.to_string()),
        ),
        (
            vec![stay(9, other, 1, 2, Status::Cancelled)],
            ImportError::AccommodationNotFound {
                code: stay(9, other, 1, 2, Status::Cancelled).code.to_string(),
                accommodation_id: other,
            },
        ),
    ];
    for (batch, why) in refused {
        let codes: Vec<ReservationCode> = batch.iter().map(|r| r.code.clone()).collect();
        assert_eq!(store.import_reservations(batch).await.unwrap(), Err(why));
        for code in codes.iter().filter(|c| !c.as_str().ends_with("000001")) {
            assert!(store.reservation(code).unwrap().is_none(), "{code} written");
        }
    }
    let window = NightRange::new(date(2031, 3, 1), date(2031, 4, 1)).unwrap();
    let (_, taken) = store
        .accommodation_with_occupancy(acc, window)
        .unwrap()
        .unwrap();
    assert_eq!(taken.len(), 1, "only the confirmed stay holds dates");
}
