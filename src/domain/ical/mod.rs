//! iCalendar (RFC 5545) for OTA calendar sync: our export, tolerant parsing of real feeds, and
//! the rules that turn a feed snapshot into imported stays.

pub mod export;
pub mod feed;
pub mod import;
pub mod snapshot;
pub mod stay;
pub mod text;

use serde::{Deserialize, Serialize};

/// Where an import feed comes from; it names the metric label and the classification hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Airbnb,
    Booking,
    Vrbo,
    Other,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Airbnb => "airbnb",
            Source::Booking => "booking",
            Source::Vrbo => "vrbo",
            Source::Other => "other",
        }
    }

    /// Default feed name shown to the host.
    pub fn label(self) -> &'static str {
        match self {
            Source::Airbnb => "Airbnb",
            Source::Booking => "Booking.com",
            Source::Vrbo => "Vrbo",
            Source::Other => "Otro calendario",
        }
    }

    /// Every source, for pre-registering metric labels.
    pub const ALL: [Source; 4] = [Source::Airbnb, Source::Booking, Source::Vrbo, Source::Other];
}

/// What an imported event means for the host: both hold dates, only bookings count in stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Reservation,
    Block,
}
