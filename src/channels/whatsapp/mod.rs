//! The WhatsApp guest channel between the webhook, the application layer and the Graph API:
//! guest messages are recorded durably and answered by a worker (the dialog is a pure state
//! machine in `dialog/`, its I/O in `conversation.rs`); replies, host notices and payment
//! news (read from the domain event log, `delivery.rs`) go through a durable outbox with
//! retries and jittered backoff (`sending.rs`).

mod chats;
mod conversation;
mod delivery;
mod dialog;
mod outgoing;
mod poison;
mod reminders;
mod roster;
mod sending;
mod texts;
mod voice;

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use chats::{Chat, ChatSummary};
pub use dialog::Conversation;
pub use poison::PANIC_TEXT;

use crate::app::App;
use crate::domain::messages::{DeliveryStatus, InboundMessage};
use crate::integrations::whatsapp::Graph;
use crate::store::{SkipUnreadable, StoreError};

/// Messages handled per sweep.
const BATCH: usize = 50;

/// The channel service; cheap to clone.
#[derive(Clone)]
pub struct WhatsApp {
    app: App,
    graph: Option<Graph>,
    wake: Arc<Notify>,
    poisoned: poison::Poisoned,
    roster: roster::Roster,
}

impl WhatsApp {
    pub fn new(app: App) -> WhatsApp {
        for result in ["sent", "retry", "failed"] {
            metrics::counter!("whatsapp_messages_sent_total", "kind" => "text", "result" => result)
                .increment(0);
        }
        metrics::counter!("host_notices_undeliverable_total", "channel" => "whatsapp").increment(0);
        metrics::counter!("whatsapp_worker_panics_total").increment(0);
        metrics::counter!("whatsapp_messages_poisoned_total").increment(0);
        WhatsApp {
            graph: Graph::new(&app.settings.whatsapp),
            app,
            wake: Arc::new(Notify::new()),
            poisoned: poison::Poisoned::default(),
            roster: roster::Roster::default(),
        }
    }

    /// Records guest messages and delivery statuses durably, then wakes the worker.
    pub async fn receive(
        &self,
        messages: Vec<InboundMessage>,
        statuses: Vec<DeliveryStatus>,
    ) -> Result<usize, StoreError> {
        let fresh = self.app.store.record_whatsapp(messages, statuses).await?;
        self.wake.notify_one();
        Ok(fresh)
    }

    /// Ends a handover: the bot answers `phone` again (through the inbox, in order with the
    /// guest's messages). `false` when there is no such chat.
    pub async fn resume(&self, phone: String) -> Result<bool, StoreError> {
        self.control(phone, dialog::RESUME_KIND).await
    }

    /// Starts a handover from the host's side: the bot stays silent in `phone`'s chat until it
    /// is handed back or `whatsapp.handover_timeout` passes. `false` when there is no such chat.
    pub async fn take_over(&self, phone: String) -> Result<bool, StoreError> {
        self.control(phone, dialog::TAKE_OVER_KIND).await
    }

    /// Queues a host command for `phone`'s chat in the inbox, so it applies in order with the
    /// guest's messages.
    async fn control(&self, phone: String, kind: &str) -> Result<bool, StoreError> {
        if self
            .app
            .store
            .conversation::<Conversation>(&phone)?
            .is_none()
        {
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

    /// Starts the worker: answers recorded messages, turns domain events into messages and
    /// sends what is due (replies go out in the same pass that made them), on every wake-up and
    /// every `whatsapp.outbox_sweep`. Following holds and the gauges run at most once per
    /// `outbox_sweep`, not on each wake-up (every hold, message and payment wakes the worker),
    /// and read only the conversations in the [`roster::Roster`], which the worker fills once
    /// when it starts. Each step runs in a task of its own: a panic ends that step's pass
    /// (logged, `whatsapp_worker_panics_total`), never the worker.
    pub fn start_worker(&self) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let sweep = this.app.settings.whatsapp.outbox_sweep;
            let mut scanned: Option<Instant> = None;
            let mut rostered = false;
            loop {
                let scan = scanned.is_none_or(|at| at.elapsed() >= sweep);
                if scan {
                    scanned = Some(Instant::now());
                }
                for what in ["roster", "inbox", "events", "holds", "outbox"] {
                    // Both read many conversations: at most once per sweep (the roster until
                    // it is filled once).
                    if (what == "holds" && !scan) || (what == "roster" && (rostered || !scan)) {
                        continue;
                    }
                    let step = this.clone();
                    let pass = tokio::spawn(async move {
                        match what {
                            "roster" => step.fill_roster(),
                            "inbox" => step.answer_inbox().await,
                            "events" => step.deliver_events().await,
                            "holds" => step.follow_holds().await,
                            _ => step.send_due().await,
                        }
                    });
                    match pass.await {
                        Ok(Ok(())) => rostered |= what == "roster",
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, what, "WhatsApp worker step failed");
                        }
                        Err(e) => worker_panicked(what, &e),
                    }
                }
                if scan {
                    this.publish_gauges();
                }
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(sweep) => {}
                }
            }
        })
    }

    /// Reads every conversation once, for the roster: the ones following holds or active.
    fn fill_roster(&self) -> Result<(), StoreError> {
        let (now, idle) = (
            Timestamp::now(),
            self.app.settings.whatsapp.conversation_timeout,
        );
        let listed = self
            .app
            .store
            .conversations(|c: &Conversation| !c.watched.is_empty() || c.is_active(now, idle))?;
        for (phone, conv) in listed {
            self.roster.note(&phone, &conv);
        }
        Ok(())
    }

    fn publish_gauges(&self) {
        if let Ok((pending, _)) = self.app.store.outbound_backlog() {
            metrics::gauge!("outbox_pending", "channel" => "whatsapp").set(pending as f64);
        }
        let active = self.roster.active(
            Timestamp::now(),
            self.app.settings.whatsapp.conversation_timeout,
        );
        metrics::gauge!("conversations_active").set(active as f64);
    }

    /// Answers the inbox in order, each message in a task of its own; a message whose answer
    /// panicked stays first and is tried again next pass, until [`poison::MAX_ATTEMPTS`].
    async fn answer_inbox(&self) -> Result<(), StoreError> {
        for (seq, msg) in self.app.store.whatsapp_inbox(BATCH)? {
            let this = self.clone();
            let attempt = msg.clone();
            match tokio::spawn(async move { this.answer(seq, attempt).await }).await {
                Ok(answered) => {
                    self.poisoned.answered(seq);
                    answered?;
                }
                Err(e) => {
                    worker_panicked("inbox", &e);
                    if !self.poisoned.panicked(seq) {
                        return Ok(());
                    }
                    self.set_aside(seq, msg).await?;
                }
            }
        }
        Ok(())
    }

    /// Answers one guest message and records the answer with the conversation's new state.
    async fn answer(&self, seq: u64, msg: InboundMessage) -> Result<(), StoreError> {
        poison::failpoint(&msg);
        let now = Timestamp::now();
        // A state that no longer decodes starts over: the guest is answered.
        let mut conv: Conversation = self
            .app
            .store
            .conversation(&msg.from)
            .skip_unreadable()?
            .unwrap_or_default();
        let text = match msg.kind.as_str() {
            "audio" => self.transcribe(&msg).await,
            _ => msg.text.clone(),
        };
        let replies = self.reply(&mut conv, &msg, text, now).await?;
        let phone = msg.from.clone();
        self.app
            .store
            .answer_inbound(seq, phone.clone(), conv.clone(), replies)
            .await?;
        self.roster.note(&phone, &conv);
        Ok(())
    }

    /// Takes a message whose answer keeps panicking out of the inbox with an apology; the
    /// conversation stays as it was.
    async fn set_aside(&self, seq: u64, msg: InboundMessage) -> Result<(), StoreError> {
        metrics::counter!("whatsapp_messages_poisoned_total").increment(1);
        tracing::error!(
            seq,
            kind = %msg.kind,
            attempts = poison::MAX_ATTEMPTS,
            "a WhatsApp message made the worker panic again and again: answered with an apology and set aside (RUNBOOK: WhatsApp message set aside)"
        );
        let conv: Conversation = self
            .app
            .store
            .conversation(&msg.from)
            .skip_unreadable()?
            .unwrap_or_default();
        let apology = texts::render(
            "answer_failed",
            &[("property", self.app.settings.property_name.clone())],
        );
        let replies = vec![outgoing::text(&msg.from, apology)];
        self.app
            .store
            .answer_inbound(seq, msg.from.clone(), conv.clone(), replies)
            .await?;
        self.roster.note(&msg.from, &conv);
        Ok(())
    }
}

/// Logs and counts a worker task that panicked (or was cancelled at shutdown).
fn worker_panicked(what: &str, e: &tokio::task::JoinError) {
    if e.is_panic() {
        metrics::counter!("whatsapp_worker_panics_total").increment(1);
        tracing::error!(what, "a WhatsApp worker step panicked; the worker goes on");
    }
}
