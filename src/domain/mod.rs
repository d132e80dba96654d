//! Pure business rules: no I/O, no async, no clock. Callers pass "now" and "today" in.

pub mod accommodation;
pub mod accommodation_change;
pub mod availability;
pub mod block;
pub mod booking;
pub mod contact;
pub mod content;
pub mod dates;
pub mod deposit;
pub mod events;
pub mod hold_limits;
pub mod ical;
pub mod ids;
pub mod messages;
pub mod money;
pub mod nlu;
pub mod password;
pub mod payment;
pub mod pricing;
pub mod reservation;
pub mod stats;
pub mod stay;
