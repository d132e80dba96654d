//! Bulk loading of reservations kept elsewhere (a benchmark's history, a move from another
//! system) in large transactions, each where the store would keep it (old closed ones in the
//! archive). A batch is checked as a whole first, with the same availability rule as a
//! booking, so a load never double-books, and then written; a batch that fails the check
//! writes nothing.

use std::collections::{BTreeSet, HashSet};

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};

use super::accommodations::load_for_write;
use super::archive::{Archive, archivable};
use super::reservations::{index, save};
use super::tables::{RESERVATIONS, encode};
use super::{Store, StoreError, occupancy};
use crate::domain::ids::AccommodationId;
use crate::domain::reservation::Reservation;

/// Why a batch was refused (nothing of it was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the code {0} is taken")]
    Code(String),
    #[error("reservation {code}: no accommodation {accommodation_id}")]
    AccommodationNotFound {
        code: String,
        accommodation_id: AccommodationId,
    },
    #[error("reservation {0} overlaps another stay")]
    DateOverlap(String),
}

fn check(
    txn: &WriteTransaction,
    archive: &Archive,
    batch: &[Reservation],
    now: Timestamp,
) -> Result<Result<(), ImportError>, StoreError> {
    let stored = txn.open_table(RESERVATIONS)?;
    let mut codes = HashSet::with_capacity(batch.len());
    let mut known = BTreeSet::new();
    let mut live = Vec::new();
    for r in batch {
        if !codes.insert(r.code.as_str())
            || stored.get(r.code.as_str())?.is_some()
            || archive.holds(r.code.as_str())?
        {
            return Ok(Err(ImportError::Code(r.code.to_string())));
        }
        if !known.contains(&r.accommodation_id) {
            if load_for_write(txn, r.accommodation_id)?.is_none() {
                return Ok(Err(ImportError::AccommodationNotFound {
                    code: r.code.to_string(),
                    accommodation_id: r.accommodation_id,
                }));
            }
            known.insert(r.accommodation_id);
        }
        if r.occupancy().is_some_and(|o| o.is_live(now)) {
            if !occupancy::is_free(txn, r.accommodation_id.get(), &r.range, now, None)? {
                return Ok(Err(ImportError::DateOverlap(r.code.to_string())));
            }
            live.push(r);
        }
    }
    // Within the batch: sorted by check-in, a set has no overlap iff no neighbours overlap.
    live.sort_by_key(|r| (r.accommodation_id, r.range.check_in()));
    for pair in live.windows(2) {
        if pair[0].accommodation_id == pair[1].accommodation_id
            && pair[0].range.overlaps(&pair[1].range)
        {
            return Ok(Err(ImportError::DateOverlap(pair[1].code.to_string())));
        }
    }
    Ok(Ok(()))
}

impl Store {
    /// Writes `batch` if no code is taken (in the live file or the archive), every
    /// accommodation exists and no stay that holds dates overlaps another (stored or in the
    /// batch); returns how many were written. Each goes where the store would keep it: closed
    /// for over [`super::ARCHIVE_AFTER`], into the archive (committed first), the rest into the
    /// live file with their index entries, in one durable commit. No events are sent for them.
    /// A commit that fails may leave the batch's archived part written.
    pub async fn import_reservations(
        &self,
        batch: Vec<Reservation>,
    ) -> Result<Result<usize, ImportError>, StoreError> {
        let archive = self.archive.clone();
        self.writer
            .write(move |txn| {
                let now = Timestamp::now();
                if let Err(e) = check(txn, &archive, &batch, now)? {
                    return Ok(Err(e));
                }
                let (old, live): (Vec<&Reservation>, _) =
                    batch.iter().partition(|r| archivable(r, now));
                let old: Vec<(String, Vec<u8>)> = old
                    .iter()
                    .map(|r| (r.code.to_string(), encode(*r)))
                    .collect();
                if !old.is_empty() {
                    archive.put(&old)?;
                }
                for r in live {
                    save(txn, r)?;
                    index(txn, r)?;
                }
                Ok(Ok(batch.len()))
            })
            .await
    }
}
