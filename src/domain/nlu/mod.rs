//! Spanish (es-AR) understanding of guest messages: intent, stay dates, guests and the
//! accommodation named. Pure and deterministic: the caller passes the property's "today" and
//! the accommodations' names.

mod accommodation;
mod guests;
mod intent;
mod text;
mod topic;
mod when;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod golden_phrasing;

use jiff::civil::Date;

pub use intent::Intent;
pub use topic::Topic;

/// What a message says, as far as the bot understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub intent: Intent,
    pub check_in: Option<Date>,
    pub check_out: Option<Date>,
    pub guests: Option<u32>,
    pub accommodation_id: Option<u64>,
    /// Nights asked for (`3 noches`, `una semana`).
    pub nights: Option<u32>,
    /// The message says yes / no (for confirmations).
    pub yes: bool,
    pub no: bool,
    /// The help topic, for `servicios`.
    pub topic: Topic,
}

/// Analyses `message` as written on `today` (the property's date); `accommodations` are the
/// (id, name) pairs the guest may name.
pub fn analyze(message: &str, today: Date, accommodations: &[(u64, String)]) -> Analysis {
    let tokens = text::tokens(message);
    let stay = when::stay(&tokens, today);
    let has_dates = stay.check_in.is_some();
    Analysis {
        intent: intent::intent(&tokens, has_dates),
        check_in: stay.check_in,
        check_out: stay.check_out,
        guests: guests::guests(&tokens),
        accommodation_id: accommodation::named(&tokens, accommodations),
        nights: when::nights(&tokens),
        yes: intent::is_yes(&tokens),
        no: intent::is_no(&tokens),
        topic: topic::topic(&tokens),
    }
}
