//! The WhatsApp guest channel between the webhook, the store and the Graph API: guest
//! messages are recorded durably and answered by a worker; replies, host notices and payment
//! news (read from the domain event log) go through a durable outbox with retries and
//! jittered backoff.

mod chats;
mod conversation;
mod outgoing;
mod reminders;
mod texts;
mod voice;

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use chats::{Chat, ChatSummary};
pub use conversation::Conversation;

use crate::config::Settings;
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::reservation::Channel;
use crate::integrations::mercadopago::{ApiHealth, ApiStatus};
use crate::integrations::outbound::retry_at;
use crate::integrations::whatsapp::{Graph, SendError};
use crate::notices::{self, Notice, Vars};
use crate::payments::Payments;
use crate::store::{
    DeliveryStatus, InboundMessage, NewOutbound, OutboundMessage, ReservePolicy, Store, StoreError,
};
use texts::render;

/// Messages handled per sweep.
const BATCH: usize = 50;

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

/// The hold policy from the configuration (the same for the API and the bot).
pub fn reserve_policy(settings: &Settings) -> ReservePolicy {
    ReservePolicy {
        time_zone: settings.time_zone.clone(),
        hold: settings.hold_duration,
        deposit_share: settings.deposit_share,
        currency: settings.currency.clone(),
        max_nights: settings.max_nights,
    }
}

/// The channel service; cheap to clone.
#[derive(Clone)]
pub struct WhatsApp {
    store: Store,
    settings: Arc<Settings>,
    payments: Payments,
    graph: Option<Graph>,
    health: Arc<ApiHealth>,
    wake: Arc<Notify>,
}

impl WhatsApp {
    pub fn new(store: Store, settings: Arc<Settings>, payments: Payments) -> WhatsApp {
        for result in ["sent", "retry", "failed"] {
            metrics::counter!("whatsapp_messages_sent_total", "kind" => "text", "result" => result)
                .increment(0);
        }
        metrics::counter!("host_notices_undeliverable_total", "channel" => "whatsapp").increment(0);
        let graph = Graph::new(&settings.whatsapp);
        WhatsApp {
            store,
            settings,
            payments,
            graph,
            health: Arc::new(ApiHealth::default()),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The Graph API's status for health, from recent sends (never calls it).
    pub fn api_status(&self) -> ApiStatus {
        if self.graph.is_some() {
            self.health.status()
        } else {
            ApiStatus::NotConfigured
        }
    }

    /// Records guest messages and delivery statuses durably, then wakes the worker.
    pub async fn receive(
        &self,
        messages: Vec<InboundMessage>,
        statuses: Vec<DeliveryStatus>,
    ) -> Result<usize, StoreError> {
        let fresh = self.store.record_whatsapp(messages, statuses).await?;
        self.wake.notify_one();
        Ok(fresh)
    }

    /// Ends a handover: the bot answers `phone` again (through the inbox, in order with the
    /// guest's messages). `false` when there is no such chat.
    pub async fn resume(&self, phone: String) -> Result<bool, StoreError> {
        self.control(phone, conversation::RESUME_KIND).await
    }

    /// Starts a handover from the host's side: the bot stays silent in `phone`'s chat until it
    /// is handed back or `whatsapp.handover_timeout` passes. `false` when there is no such chat.
    pub async fn take_over(&self, phone: String) -> Result<bool, StoreError> {
        self.control(phone, conversation::TAKE_OVER_KIND).await
    }

    /// Queues a host command for `phone`'s chat in the inbox, so it applies in order with the
    /// guest's messages.
    async fn control(&self, phone: String, kind: &str) -> Result<bool, StoreError> {
        if self.store.conversation::<Conversation>(&phone)?.is_none() {
            return Ok(false);
        }
        let request = InboundMessage {
            id: format!("{kind}-{}", crate::secret::random_hex(8)),
            from: phone,
            profile_name: None,
            received_at: Timestamp::now(),
            kind: kind.into(),
            text: None,
            reply_id: None,
            media_id: None,
        };
        self.receive(vec![request], vec![]).await?;
        Ok(true)
    }

    /// Starts the worker: answers recorded messages, turns domain events into messages, follows
    /// holds and sends what is due (replies go out in the same pass that made them), on every
    /// wake-up and every `whatsapp.outbox_sweep`.
    pub fn start_worker(&self) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                for (what, result) in [
                    ("inbox", this.answer_inbox().await),
                    ("events", this.deliver_events().await),
                    ("holds", this.follow_holds().await),
                    ("outbox", this.send_due().await),
                ] {
                    if let Err(e) = result {
                        tracing::error!(error = %e, what, "WhatsApp worker step failed");
                    }
                }
                this.publish_gauges();
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(this.settings.whatsapp.outbox_sweep) => {}
                }
            }
        })
    }

    fn publish_gauges(&self) {
        if let Ok((pending, _)) = self.store.outbound_backlog() {
            metrics::gauge!("outbox_pending", "channel" => "whatsapp").set(pending as f64);
        }
        let (now, idle) = (
            Timestamp::now(),
            self.settings.whatsapp.conversation_timeout,
        );
        if let Ok(n) = self
            .store
            .count_conversations(|c: &Conversation| c.is_active(now, idle))
        {
            metrics::gauge!("conversations_active").set(n as f64);
        }
    }

    async fn answer_inbox(&self) -> Result<(), StoreError> {
        for (seq, msg) in self.store.whatsapp_inbox(BATCH)? {
            let now = Timestamp::now();
            let mut conv: Conversation = self.store.conversation(&msg.from)?.unwrap_or_default();
            let text = match msg.kind.as_str() {
                "audio" => self.transcribe(&msg).await,
                _ => msg.text.clone(),
            };
            let replies = self.reply(&mut conv, &msg, text, now).await?;
            self.store
                .answer_inbound(seq, msg.from.clone(), conv, replies)
                .await?;
        }
        Ok(())
    }

    /// A message for `to`: free text inside the 24-hour window, the approved template outside
    /// it, nothing when no template is configured.
    fn notification(
        &self,
        to: &str,
        body: String,
        now: Timestamp,
    ) -> Result<Option<NewOutbound>, StoreError> {
        let conv: Option<Conversation> = self.store.conversation(to)?;
        if conv.is_some_and(|c| c.window_open(now)) {
            return Ok(Some(outgoing::text(to, body)));
        }
        let wa = &self.settings.whatsapp;
        Ok(wa
            .template_name
            .as_deref()
            .map(|name| outgoing::template(to, name, &wa.template_language, body)))
    }

    /// A notice for the host's number, if one is configured. One that cannot go out (the
    /// host's window is closed and no template is configured) is logged and counted; email
    /// still carries it when configured.
    fn to_host(
        &self,
        kind: EventKind,
        body: String,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let Some(host) = &self.settings.whatsapp.host_phone else {
            return Ok(vec![]);
        };
        let message = self.notification(host, body, now)?;
        if message.is_none() {
            metrics::counter!("host_notices_undeliverable_total", "channel" => "whatsapp")
                .increment(1);
            tracing::warn!(
                ?kind,
                "host notice not sent over WhatsApp: the host's 24-hour window is closed and \
                 whatsapp.template_name is not set"
            );
        }
        Ok(message.into_iter().collect())
    }

    /// Turns the domain events (payments, bookings, expiries, iCal conflicts, chats) into
    /// guest and host messages.
    async fn deliver_events(&self) -> Result<(), StoreError> {
        let events = self.store.undelivered_events()?;
        let Some((last, _)) = events.last() else {
            return Ok(());
        };
        let now = Timestamp::now();
        let mut messages = Vec::new();
        for (_, event) in &events {
            messages.extend(self.event_messages(event, now)?);
        }
        self.store.events_delivered(*last, messages).await
    }

    fn event_messages(
        &self,
        event: &DomainEvent,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        if event.audience == Audience::Host && self.settings.whatsapp.host_phone.is_none() {
            // No host number: nothing to write (and every new hold has a host event).
            return Ok(vec![]);
        }
        let Notice { reservation, vars } = notices::describe(&self.store, &self.settings, event)?;
        match event.audience {
            Audience::Guest => {
                let Some(r) = reservation.filter(|r| r.channel == Channel::Whatsapp) else {
                    return Ok(vec![]);
                };
                let key = if event.kind == EventKind::BookingConfirmed {
                    "confirmed"
                } else {
                    "payment_problem"
                };
                let to = r.contact.phone.trim_start_matches('+').to_owned();
                Ok(self
                    .notification(&to, render(key, &vars), now)?
                    .into_iter()
                    .collect())
            }
            Audience::Host => self.to_host(event.kind, host_text(event.kind, vars), now),
        }
    }

    /// Sends every due message once; failures wait with jittered backoff (429 / 5xx /
    /// network) or fail for good (other 4xx, or after `whatsapp.max_attempts`).
    async fn send_due(&self) -> Result<(), StoreError> {
        let Some(graph) = &self.graph else {
            return Ok(());
        };
        for m in self.store.due_outbound(Timestamp::now(), BATCH)? {
            let (g, to, body) = (graph.clone(), m.message.to.clone(), m.message.body.clone());
            let sent = tokio::task::spawn_blocking(move || g.send(&to, &body))
                .await
                .unwrap_or_else(|_| {
                    Err(SendError::Unavailable("the request panicked".into(), None))
                });
            self.record_send(m, sent).await?;
        }
        Ok(())
    }

    async fn record_send(
        &self,
        m: OutboundMessage,
        sent: Result<String, SendError>,
    ) -> Result<(), StoreError> {
        let kind = m.message.kind.clone();
        let wa = &self.settings.whatsapp;
        match sent {
            Ok(wamid) => {
                self.health.record(true);
                metrics::counter!("whatsapp_messages_sent_total", "kind" => kind, "result" => "sent").increment(1);
                self.store.outbound_sent(m.id, wamid).await
            }
            Err(e) => {
                metrics::counter!("outbox_delivery_failures_total", "channel" => "whatsapp")
                    .increment(1);
                let retry = match &e {
                    SendError::Unavailable(_, hint) => retry_at(
                        m.attempts + 1,
                        wa.max_attempts,
                        wa.retry_base,
                        wa.retry_cap,
                        *hint,
                        Timestamp::now(),
                    ),
                    SendError::Refused(_) => None,
                };
                if retry.is_some() {
                    self.health.record(false);
                }
                let result = if retry.is_some() { "retry" } else { "failed" };
                metrics::counter!("whatsapp_messages_sent_total", "kind" => kind, "result" => result).increment(1);
                tracing::warn!(message = m.id, error = %e, result, "WhatsApp send failed");
                self.store.outbound_failed(m.id, e.to_string(), retry).await
            }
        }
    }
}
