//! Owner blocks: dates the host takes off sale.

use jiff::Timestamp;
use redb::ReadableTable;

use super::accommodations::load_for_write;
use super::tables::{BLOCKS, encode};
use super::unreadable::decode_at;
use super::{Store, StoreError, occupancy};
use crate::domain::availability::Occupancy;
use crate::domain::block::OwnerBlock;
use crate::domain::dates::NightRange;
use crate::domain::ids::{AccommodationId, block_code};

/// Why a block could not be created or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("no accommodation with that id")]
    AccommodationNotFound,
    #[error("the dates overlap another stay")]
    DateOverlap,
    #[error("no block with that code")]
    NotFound,
}

impl Store {
    /// Blocks `range` on an accommodation if it is free.
    pub async fn create_block(
        &self,
        accommodation_id: AccommodationId,
        range: NightRange,
        reason: String,
        created_by: String,
    ) -> Result<Result<OwnerBlock, BlockError>, StoreError> {
        self.writer
            .write(move |txn| {
                let now = Timestamp::now();
                if load_for_write(txn, accommodation_id)?.is_none() {
                    return Ok(Err(BlockError::AccommodationNotFound));
                }
                if !occupancy::is_free(txn, accommodation_id.get(), &range, now, None)? {
                    return Ok(Err(BlockError::DateOverlap));
                }
                let mut table = txn.open_table(BLOCKS)?;
                let code = loop {
                    let code = block_code(rand::random());
                    if table.get(code.as_str())?.is_none() {
                        break code;
                    }
                };
                let block = OwnerBlock {
                    code,
                    accommodation_id,
                    range,
                    reason,
                    created_at: now,
                    created_by,
                };
                table.insert(block.code.as_str(), encode(&block).as_slice())?;
                let held = Occupancy {
                    range,
                    hold_expires_at: None,
                };
                occupancy::put(txn, accommodation_id.get(), &block.code, &held)?;
                Ok(Ok(block))
            })
            .await
    }

    /// Removes a block and frees its dates.
    pub async fn delete_block(
        &self,
        code: String,
    ) -> Result<Result<OwnerBlock, BlockError>, StoreError> {
        self.writer
            .write(move |txn| {
                let removed = txn
                    .open_table(BLOCKS)?
                    .remove(code.as_str())?
                    .map(|v| decode_at::<_, OwnerBlock>(&BLOCKS, code.as_str(), v.value()))
                    .transpose()?;
                let Some(block) = removed else {
                    return Ok(Err(BlockError::NotFound));
                };
                occupancy::remove(txn, block.accommodation_id.get(), &block.code, &block.range)?;
                Ok(Ok(block))
            })
            .await
    }

    /// Every readable owner block, optionally of one accommodation.
    pub fn blocks(
        &self,
        accommodation_id: Option<AccommodationId>,
    ) -> Result<Vec<OwnerBlock>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(BLOCKS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&BLOCKS, k.value(), v.value());
                if let Some(block) = self.unreadable.skip::<OwnerBlock>(decoded)?
                    && accommodation_id.is_none_or(|a| a == block.accommodation_id)
                {
                    out.push(block);
                }
            }
            Ok(out)
        })
    }
}
