//! The es-AR email texts of `assets/email/es-AR.toml` (embedded at build time): a subject
//! and a body per message, filled in with `{placeholders}`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

use crate::app::notices::format::fill;
use crate::domain::events::{Audience, EventKind};

const SOURCE: &str = include_str!("../../../assets/email/es-AR.toml");

#[derive(Debug, Deserialize)]
struct Text {
    subject: String,
    body: String,
}

static TEXTS: LazyLock<BTreeMap<String, Text>> = LazyLock::new(|| {
    Figment::from(Toml::string(SOURCE))
        .extract()
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "assets/email/es-AR.toml does not parse");
            BTreeMap::new()
        })
});

/// The text that tells `audience` about `kind`.
pub fn key(audience: Audience, kind: EventKind) -> &'static str {
    match (audience, kind) {
        (Audience::Guest, EventKind::BookingConfirmed) => "guest_confirmed",
        (Audience::Guest, _) => "guest_payment_problem",
        (Audience::Host, EventKind::NewBooking) => "host_new_booking",
        (Audience::Host, EventKind::HoldExpired) => "host_hold_expired",
        (Audience::Host, EventKind::IcalConflict) => "host_ical_conflict",
        (Audience::Host, EventKind::Handover) => "host_handover",
        (Audience::Host, EventKind::CancelRequest) => "host_cancel_request",
        (Audience::Host, EventKind::BookingConfirmed) => "host_payment_confirmed",
        (Audience::Host, EventKind::PaymentUnderDeposit) => "host_under_deposit",
        (Audience::Host, EventKind::PaymentCurrencyMismatch) => "host_currency",
        (Audience::Host, EventKind::PaymentNeedsRefund) => "host_refund",
        (Audience::Host, EventKind::PaymentReversed) => "host_reversed",
        (Audience::Host, EventKind::OrphanPayment) => "host_orphan",
    }
}

/// Subject (one line) and body of text `key`; `None` when the file lacks it (logged).
pub fn render(key: &str, vars: &[(&str, String)]) -> Option<(String, String)> {
    let Some(text) = TEXTS.get(key) else {
        tracing::error!(key, "missing email text");
        return None;
    };
    let subject = fill(&text.subject, vars).replace(['\r', '\n'], " ");
    Some((subject, fill(&text.body, vars)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_text_for_each_audience() {
        let kinds = [
            EventKind::BookingConfirmed,
            EventKind::PaymentUnderDeposit,
            EventKind::PaymentCurrencyMismatch,
            EventKind::PaymentNeedsRefund,
            EventKind::PaymentReversed,
            EventKind::OrphanPayment,
            EventKind::NewBooking,
            EventKind::HoldExpired,
            EventKind::IcalConflict,
            EventKind::Handover,
            EventKind::CancelRequest,
        ];
        for kind in kinds {
            for audience in [Audience::Host, Audience::Guest] {
                let key = key(audience, kind);
                let text = TEXTS.get(key).unwrap_or_else(|| panic!("no text {key}"));
                assert!(!text.subject.trim().is_empty() && !text.body.trim().is_empty());
            }
        }
        assert_eq!(TEXTS.len(), 13, "every text in the file is used");
        let (subject, body) = render(
            "host_handover",
            &[("phone", "5491122334455".into()), ("hours", "12".into())],
        )
        .unwrap();
        assert!(!subject.contains('\n'));
        assert!(body.contains("https://wa.me/5491122334455") && body.contains("12 horas"));
    }
}
