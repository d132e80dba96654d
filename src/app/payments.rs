//! Deposits through Mercado Pago, between the channels, the store and the API client: payment
//! links (for every channel), the worker that processes recorded webhook notifications, and
//! reconciliation; what a payment does to its reservation is `domain::deposit`.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::config::{BackUrls, Settings};
use crate::domain::deposit::Outcome;
use crate::domain::payment::ProviderPayment;
use crate::domain::reservation::{LinkError, Reservation, Status};
use crate::integrations::api_health::{ApiHealth, ApiStatus};
use crate::integrations::mercadopago::{MercadoPago, MpError, PreferenceRequest};
use crate::integrations::outbound::backoff;
use crate::store::{InboxEntry, Store, StoreError};

/// Notifications processed per sweep of the inbox.
const SWEEP_BATCH: usize = 100;
/// A payment the API keeps refusing to show (404 for a notified id) is dropped after this
/// many attempts.
const MAX_REFUSED_ATTEMPTS: u32 = 5;
/// Longest wait between attempts at a notification that keeps failing.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3_600);
/// Longest a guest taking a hold waits for its payment link (the pre-reservation SLO is 3 s):
/// 429 / 5xx / network failures are retried (`mercadopago.max_retries`, at least once) as long
/// as the retry starts within it.
const HOLD_LINK_BUDGET: Duration = Duration::from_secs(2);
/// Calls to Mercado Pago running at once; more wait for a turn. Each blocking call takes a
/// thread of the pool until it ends, even when its caller stopped waiting (a new hold waits
/// 2 s), so without a bound a slow API under a stream of holds would keep starting threads
/// (up to tokio's 512). Four calls at a few hundred ms each are well over a small host's peak.
const MAX_CALLS_AT_ONCE: usize = 4;

/// Why a payment link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PaymentLinkError {
    #[error("payments are not configured (mercadopago.access_token)")]
    NotConfigured,
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Provider(#[from] MpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The payments service; cheap to clone.
#[derive(Clone)]
pub struct Payments {
    store: Store,
    settings: Arc<Settings>,
    client: Option<MercadoPago>,
    health: Arc<ApiHealth>,
    wake: Arc<Notify>,
    calls: Arc<Semaphore>,
}

impl Payments {
    pub fn new(store: Store, settings: Arc<Settings>) -> Payments {
        let health = Arc::new(ApiHealth::default());
        let client = MercadoPago::new(&settings.mercadopago, health.clone());
        Payments {
            store,
            settings,
            client,
            health,
            wake: Arc::new(Notify::new()),
            calls: Arc::new(Semaphore::new(MAX_CALLS_AT_ONCE)),
        }
    }

    /// Whether payment links can be made (an access token is configured).
    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    /// The API's status for health, from recent calls (never calls it).
    pub fn api_status(&self) -> ApiStatus {
        if self.client.is_some() {
            self.health.status()
        } else {
            ApiStatus::NotConfigured
        }
    }

    /// The hold's payment link: the stored one if it was made for the current expiry,
    /// otherwise a new Checkout Pro preference (with up to `retries` retries).
    pub async fn link(
        &self,
        r: &Reservation,
        retries: u32,
    ) -> Result<Reservation, PaymentLinkError> {
        self.link_by(r, retries, None).await
    }

    /// [`Payments::link`], with no retry starting after `deadline`.
    async fn link_by(
        &self,
        r: &Reservation,
        retries: u32,
        deadline: Option<std::time::Instant>,
    ) -> Result<Reservation, PaymentLinkError> {
        let client = self.client.clone().ok_or(PaymentLinkError::NotConfigured)?;
        if r.status != Status::PreReserved {
            return Err(LinkError::NotAHold(r.status).into());
        }
        if r.payment.payment_url.is_some() && r.payment.link_expires_at == r.expires_at {
            return Ok(r.clone());
        }
        let mp = &self.settings.mercadopago;
        let req = PreferenceRequest {
            reservation_code: r.code.to_string(),
            title: format!("Seña {} ({})", self.settings.property_name, r.code),
            deposit: r.deposit,
            currency: r.currency.clone(),
            expires_at: r
                .expires_at
                .unwrap_or_else(|| Timestamp::now() + SignedDuration::from_hours(1)),
            notification_url: mp.notification_url.clone(),
            back_urls: self.back_urls(r),
            payer_email: r.contact.email().map(str::to_owned),
        };
        let preference = self
            .call(move || client.create_preference(&req, retries, deadline))
            .await?;
        Ok(self
            .store
            .set_payment_link(
                r.code.clone(),
                preference.id,
                preference.init_point,
                r.expires_at,
            )
            .await??)
    }

    /// Where Checkout Pro sends the guest back: the configured URLs, or else the guest's own
    /// page on the site (`{server.public_base_url}/reserva/{code}`; the page asks for the
    /// reservation's secret, which Mercado Pago never sees).
    fn back_urls(&self, r: &Reservation) -> BackUrls {
        let configured = &self.settings.mercadopago.back_urls;
        if configured.success.is_some()
            || configured.failure.is_some()
            || configured.pending.is_some()
        {
            return configured.clone();
        }
        let page = self
            .settings
            .public_base_url
            .as_ref()
            .filter(|_| self.settings.site.enabled)
            .map(|base| format!("{base}/reserva/{}", r.code));
        BackUrls {
            success: page.clone(),
            failure: page.clone(),
            pending: page,
        }
    }

    /// Runs one blocking call to the API on the blocking pool when a turn is free (at most
    /// [`MAX_CALLS_AT_ONCE`]); the turn is held until the call ends, not until its caller
    /// stops waiting.
    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> Result<T, MpError> + Send + 'static,
    ) -> Result<T, MpError> {
        let turn = self.calls.clone().acquire_owned().await.ok(); // never closed
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            call()
        })
        .await
        .unwrap_or_else(|_| Err(MpError::Unavailable("the request panicked".into())))
    }

    /// The link for a hold just taken: attempts (a 429 or 5xx retried at least once) within a
    /// short budget, and the hold stands whatever happens (the guest can ask again).
    pub async fn link_for_new_hold(&self, r: &Reservation) -> Option<Reservation> {
        if !self.is_configured() || r.status != Status::PreReserved {
            return None;
        }
        let retries = self.settings.mercadopago.max_retries.max(1);
        let deadline = std::time::Instant::now() + HOLD_LINK_BUDGET;
        match tokio::time::timeout(HOLD_LINK_BUDGET, self.link_by(r, retries, Some(deadline))).await
        {
            Ok(Ok(linked)) => Some(linked),
            Ok(Err(e)) => {
                tracing::warn!(code = %r.code, error = %e, "no payment link for the new hold");
                None
            }
            Err(_) => {
                tracing::warn!(code = %r.code, "no payment link for the new hold: Mercado Pago is slow");
                None
            }
        }
    }

    /// Records a notification about `payment_id` durably and wakes the worker.
    pub async fn notify(&self, payment_id: String) -> Result<(), StoreError> {
        self.store.record_notification(payment_id).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Starts the worker that processes recorded notifications: on every wake-up and every
    /// `mercadopago.inbox_sweep` (so entries left by a restart or a failure are retried).
    pub fn start_worker(&self) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                this.process_due().await;
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(this.settings.mercadopago.inbox_sweep) => {}
                }
            }
        })
    }

    async fn process_due(&self) {
        let Some(client) = &self.client else {
            return;
        };
        let due = match self.store.due_notifications(Timestamp::now(), SWEEP_BATCH) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook inbox");
                return;
            }
        };
        for entry in due {
            if let Err(e) = self.process(client, entry).await {
                tracing::error!(error = %e, "cannot process a payment notification");
            }
        }
    }

    async fn process(&self, client: &MercadoPago, entry: InboxEntry) -> Result<(), StoreError> {
        let (c, id) = (client.clone(), entry.payment_id.clone());
        let fetched = self.call(move || c.payment(&id)).await;
        let id = entry.payment_id.clone();
        match fetched {
            Ok(payment) => {
                self.apply(payment).await?;
                self.store
                    .finish_notification(id, entry.notifications)
                    .await
            }
            Err(MpError::Refused(status)) if entry.attempts + 1 >= MAX_REFUSED_ATTEMPTS => {
                tracing::warn!(payment = %id, status, "Mercado Pago does not show this payment; notification dropped");
                self.store
                    .finish_notification(id, entry.notifications)
                    .await
            }
            Err(e) => {
                let wait = backoff(
                    entry.attempts + 1,
                    self.settings.mercadopago.inbox_sweep,
                    MAX_RETRY_WAIT,
                    rand::random(),
                );
                let at = Timestamp::now() + SignedDuration::try_from(wait).unwrap_or_default();
                tracing::warn!(payment = %id, error = %e, "payment notification not processed; will retry");
                self.store.notification_failed(id, e.to_string(), at).await
            }
        }
    }

    /// Applies a payment report and counts what it did.
    async fn apply(&self, payment: ProviderPayment) -> Result<Outcome, StoreError> {
        let status = payment.status;
        let id = payment.id.clone();
        let outcome = self.store.apply_payment(payment).await?;
        if outcome != Outcome::Unchanged {
            metrics::counter!("payments_total", "status" => status.as_str()).increment(1);
            tracing::info!(payment = %id, status = status.as_str(), ?outcome, "payment recorded");
        }
        match outcome {
            Outcome::Flagged(_) => metrics::counter!("payment_amount_mismatch_total").increment(1),
            Outcome::NeedsRefund => metrics::counter!("payments_needs_refund_total").increment(1),
            Outcome::Confirmed(channel) => {
                metrics::counter!("reservations_confirmed_total", "channel" => channel.as_str())
                    .increment(1)
            }
            _ => {}
        }
        Ok(outcome)
    }

    /// Asks Mercado Pago about every live hold with a link, so a lost notification never
    /// loses a payment. A hold that cannot be searched or applied (the API, an unreadable
    /// record) is counted as failed and the others go on.
    pub async fn reconcile(&self) -> Result<String, StoreError> {
        let Some(client) = &self.client else {
            return Ok("payments not configured".into());
        };
        let codes = self.store.holds_with_links()?;
        let (mut applied, mut failed) = (0, 0);
        for code in &codes {
            let (c, reference) = (client.clone(), code.to_string());
            let found = self.call(move || c.search(&reference)).await;
            match found {
                Ok(payments) => {
                    for p in payments {
                        if p.external_reference.as_deref() != Some(code.as_str()) {
                            continue;
                        }
                        match self.apply(p).await {
                            Ok(Outcome::Unchanged) => {}
                            Ok(_) => applied += 1,
                            Err(e) => {
                                failed += 1;
                                tracing::warn!(code = %code, error = %e, "cannot apply a payment of a hold; the next run tries again");
                            }
                        }
                    }
                }
                Err(e) => {
                    failed += 1;
                    tracing::warn!(code = %code, error = %e, "cannot search the payments of a hold");
                }
            }
        }
        Ok(format!(
            "{} holds checked, {applied} payment changes, {failed} failed",
            codes.len()
        ))
    }
}
