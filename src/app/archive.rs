//! Moving closed reservations out of the live store file (see `store/archive.rs`): a pass
//! reads the live file a step at a time on a nice-19 thread, copies what can move to the
//! archive durably, then has the writer forget those records in the live file.

use jiff::Timestamp;

use crate::background::{self, Priority};
use crate::store::{Store, StoreError};

/// Why an archive pass stopped (what it moved before stays moved).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the archive thread did not finish")]
    Thread,
}

/// Moves every reservation closed for longer than [`crate::store::ARCHIVE_AFTER`] at `now`
/// to the archive; returns how many left the live file.
pub async fn archive_closed(store: &Store, now: Timestamp) -> Result<usize, ArchiveError> {
    let (mut moved, mut after) = (0, None::<String>);
    loop {
        let (reader, from) = (store.clone(), after.take());
        let step = background::run("archive", Priority::Lowest, move || {
            reader.copy_to_archive(from.as_deref(), now)
        })
        .await
        .ok_or(ArchiveError::Thread)??;
        let next = step.next.clone();
        moved += store.forget_archived(step).await?;
        match next {
            Some(code) if !store.is_closing() => after = Some(code),
            _ => return Ok(moved),
        }
    }
}
