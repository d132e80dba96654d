//! The `[holds]` section: limits on the unpaid holds guests take (public API, booking site,
//! WhatsApp), so one client cannot empty the calendar. The host's holds are exempt.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};
use crate::domain::hold_limits::HoldLimits;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldsSection {
    pub per_phone: u32,
    pub per_address: u32,
    pub max_nights: u32,
    pub window_days: u32,
    pub max_share_percent: u32,
}

impl Default for HoldsSection {
    fn default() -> Self {
        Self {
            per_phone: 2,
            per_address: 4,
            max_nights: 21,
            window_days: 365,
            max_share_percent: 30,
        }
    }
}

impl HoldsSection {
    /// The limits, checked against each other and against the longest stay.
    pub fn validate(self, max_stay: u32) -> Result<HoldLimits, ConfigError> {
        if self.max_share_percent > 100 {
            return Err(invalid(
                "holds.max_share_percent",
                "must be between 0 and 100",
            ));
        }
        if self.window_days > 366 {
            return Err(invalid("holds.window_days", "must be at most 366"));
        }
        let limits = HoldLimits {
            per_phone: self.per_phone,
            per_address: self.per_address,
            max_nights: self.max_nights,
            window_days: self.window_days,
            max_share_percent: self.max_share_percent,
        };
        let longest = match self.max_nights {
            0 => max_stay,
            n => n.min(max_stay),
        };
        if let Some(cap) = limits.share_cap()
            && cap < longest
        {
            return Err(invalid(
                "holds.max_share_percent",
                format!(
                    "{}% of holds.window_days ({}) is {cap} nights, less than the longest hold a \
                     guest may take ({longest}): such a hold could never be taken",
                    self.max_share_percent, self.window_days
                ),
            ));
        }
        Ok(limits)
    }
}
