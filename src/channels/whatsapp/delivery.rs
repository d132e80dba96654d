//! Domain events as WhatsApp messages: the guest hears of payments on a booking taken in a
//! chat, the host of everything (inside the host's 24-hour window as text, outside it as the
//! approved template).

use jiff::Timestamp;

use super::texts::render;
use super::{Conversation, WhatsApp, outgoing};
use crate::app::notices::{self, Notice, Vars};
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::messages::NewOutbound;
use crate::domain::reservation::Channel;
use crate::store::{SkipUnreadable, StoreError};

/// The host's WhatsApp text for an event.
fn host_text(kind: EventKind, mut vars: Vars) -> String {
    let what = match kind {
        EventKind::NewBooking => return render("host_new_hold", &vars),
        EventKind::HoldExpired => return render("host_hold_expired", &vars),
        EventKind::IcalConflict => return render("host_ical_conflict", &vars),
        EventKind::Handover => return render("host_handover", &vars),
        EventKind::CancelRequest => return render("host_cancel_request", &vars),
        EventKind::BookingConfirmed => render("event_confirmed", &[]),
        EventKind::PaymentUnderDeposit => render("event_under_deposit", &[]),
        EventKind::PaymentCurrencyMismatch => render("event_currency", &[]),
        EventKind::PaymentNeedsRefund => render("event_refund", &[]),
        EventKind::PaymentReversed => render("event_reversed", &[]),
        EventKind::OrphanPayment => render("event_orphan", &[]),
    };
    vars.push(("event", what));
    render("host_event", &vars)
}

impl WhatsApp {
    /// A message for `to`: free text inside the 24-hour window, the approved template outside
    /// it, nothing when no template is configured.
    pub(super) fn notification(
        &self,
        to: &str,
        body: String,
        now: Timestamp,
    ) -> Result<Option<NewOutbound>, StoreError> {
        // A chat state that no longer decodes counts as a closed window.
        let conv: Option<Conversation> = self.app.store.conversation(to).skip_unreadable()?;
        if conv.is_some_and(|c| c.window_open(now)) {
            return Ok(Some(outgoing::text(to, body)));
        }
        let wa = &self.app.settings.whatsapp;
        Ok(wa
            .template_name
            .as_deref()
            .map(|name| outgoing::template(to, name, &wa.template_language, body)))
    }

    /// A notice for the host's number, if one is configured, and how many notices could not
    /// go out (the host's window is closed and no template is configured): logged here,
    /// counted once the pass commits; email still carries them when configured.
    fn to_host(
        &self,
        kind: EventKind,
        body: String,
        now: Timestamp,
    ) -> Result<(Vec<NewOutbound>, u64), StoreError> {
        let Some(host) = &self.app.settings.whatsapp.host_phone else {
            return Ok((vec![], 0));
        };
        let message = self.notification(host, body, now)?;
        if message.is_none() {
            tracing::warn!(
                ?kind,
                "host notice not sent over WhatsApp: the host's 24-hour window is closed and \
                 whatsapp.template_name is not set"
            );
        }
        let undeliverable = u64::from(message.is_none());
        Ok((message.into_iter().collect(), undeliverable))
    }

    /// Turns the domain events (payments, bookings, expiries, iCal conflicts, chats) into
    /// guest and host messages, a page at a time, each page in the commit that moves the
    /// cursor past it, up to the newest event when the pass began.
    pub(super) async fn deliver_events(&self) -> Result<(), StoreError> {
        let mut end = None;
        loop {
            let page = self.app.store.undelivered_events()?;
            let Some(through) = page.through else {
                return Ok(());
            };
            let end = *end.get_or_insert(page.newest);
            let now = Timestamp::now();
            let (mut messages, mut undeliverable) = (Vec::new(), 0);
            for (_, event) in &page.events {
                let (made, lost) = self.event_messages(event, now)?;
                messages.extend(made);
                undeliverable += lost;
            }
            self.app.store.events_delivered(through, messages).await?;
            // Counted after the commit: a pass that fails is made again, and would count twice.
            metrics::counter!("host_notices_undeliverable_total", "channel" => "whatsapp")
                .increment(undeliverable);
            if !page.more || through >= end {
                return Ok(());
            }
        }
    }

    fn event_messages(
        &self,
        event: &DomainEvent,
        now: Timestamp,
    ) -> Result<(Vec<NewOutbound>, u64), StoreError> {
        if event.audience == Audience::Host && self.app.settings.whatsapp.host_phone.is_none() {
            // No host number: nothing to write (and every new hold has a host event).
            return Ok((vec![], 0));
        }
        let Notice { reservation, vars } =
            notices::describe(&self.app.store, &self.app.settings, event)?;
        match event.audience {
            Audience::Guest => {
                let Some(r) = reservation.filter(|r| r.channel == Channel::Whatsapp) else {
                    return Ok((vec![], 0));
                };
                let key = if event.kind == EventKind::BookingConfirmed {
                    "confirmed"
                } else {
                    "payment_problem"
                };
                let to = r.contact.phone().trim_start_matches('+').to_owned();
                let made = self.notification(&to, render(key, &vars), now)?;
                Ok((made.into_iter().collect(), 0))
            }
            Audience::Host => self.to_host(event.kind, host_text(event.kind, vars), now),
        }
    }
}
