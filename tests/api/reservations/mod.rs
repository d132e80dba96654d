//! Guest-facing booking flow over real HTTP against a real redb file.

use std::time::Duration;

use crate::helpers::{TestApp, body, day, eventually, reserve_body};
use reqwest::StatusCode;
use serde_json::json;

mod changes;
mod holds;

/// The next Friday at least a week away, as days from today.
fn next_friday_offset() -> i64 {
    let tz = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").unwrap();
    let today = tz.to_datetime(jiff::Timestamp::now()).date();
    (7..14)
        .find(|d| {
            today
                .checked_add(jiff::Span::new().days(*d))
                .unwrap()
                .weekday()
                == jiff::civil::Weekday::Friday
        })
        .unwrap()
}
