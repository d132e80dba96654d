//! The application layer: each use case once, between the channels and the store.

pub mod backups;
pub mod ical;
pub mod jobs;
pub mod notices;
pub mod payments;
