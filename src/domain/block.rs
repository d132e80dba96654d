//! Owner blocks: dates the host takes off sale without a guest booking.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::dates::NightRange;
use super::ids::AccommodationId;

/// Nights of one accommodation held by the host (maintenance, own use, booked elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerBlock {
    pub code: String,
    pub accommodation_id: AccommodationId,
    pub range: NightRange,
    pub reason: String,
    pub created_at: Timestamp,
    pub created_by: String,
}
