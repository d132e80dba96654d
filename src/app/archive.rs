//! Moving closed reservations out of the live store file (see `store/archive.rs`): a pass
//! reads the live file a step at a time on a nice-19 thread, copies what can move to the
//! archive durably, then has the writer forget those records in the live file.

use jiff::Timestamp;

use super::jobs::JobError;
use crate::background::{self, Priority};
use crate::store::Store;

/// Moves every reservation closed for longer than [`crate::store::ARCHIVE_AFTER`] at `now`
/// to the archive; returns how many left the live file.
pub async fn archive_closed(store: &Store, now: Timestamp) -> Result<usize, JobError> {
    let (mut moved, mut after) = (0, None::<String>);
    loop {
        let (reader, from) = (store.clone(), after.take());
        let step = background::run("archive", Priority::Lowest, move || {
            reader.copy_to_archive(from.as_deref(), now)
        })
        .await
        .ok_or(JobError::Thread("archive"))??;
        let next = step.next.clone();
        moved += store.forget_archived(step).await?;
        match next {
            Some(code) if !store.is_closing() => after = Some(code),
            _ => return Ok(moved),
        }
    }
}
