//! Owner blocks: dates the host takes off sale, at most two years long and never in the past.

use jiff::Timestamp;
use jiff::civil::Date;

use super::Booking;
use crate::domain::block::OwnerBlock;
use crate::domain::dates::NightRange;
use crate::domain::ids::AccommodationId;
use crate::store::{BlockError, StoreError};

/// Longest owner block, in nights.
pub const MAX_BLOCK_NIGHTS: u32 = 730;

/// Longest reason kept, in characters.
const MAX_REASON: usize = 500;

/// Why a block was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlockRefused {
    #[error("check_out must be after check_in, at most {MAX_BLOCK_NIGHTS} nights later")]
    Dates,
    #[error("check_in is in the past at the property")]
    PastDates,
    #[error(transparent)]
    Refused(#[from] BlockError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Booking {
    /// Blocks `[check_in, check_out)` of accommodation `id` if those dates are free.
    pub async fn block(
        &self,
        id: AccommodationId,
        (check_in, check_out): (Date, Date),
        reason: Option<String>,
        by: String,
    ) -> Result<OwnerBlock, BlockRefused> {
        let range = NightRange::new(check_in, check_out)
            .ok()
            .filter(|r| r.nights() <= MAX_BLOCK_NIGHTS)
            .ok_or(BlockRefused::Dates)?;
        if check_in < self.today(Timestamp::now()) {
            return Err(BlockRefused::PastDates);
        }
        let reason = reason
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_REASON)
            .collect();
        Ok(self.store.create_block(id, range, reason, by).await??)
    }

    /// Removes owner block `code` and frees its dates.
    pub async fn unblock(&self, code: String) -> Result<OwnerBlock, BlockRefused> {
        Ok(self.store.delete_block(code).await??)
    }
}
