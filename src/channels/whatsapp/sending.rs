//! Sending the outbox through the Graph API: every due message once per sweep; failures wait
//! with jittered backoff (429 / 5xx / network) or fail for good.

use jiff::Timestamp;

use super::WhatsApp;
use crate::domain::messages::OutboundMessage;
use crate::integrations::outbound::retry_at;
use crate::integrations::whatsapp::SendError;
use crate::store::StoreError;

/// Messages sent per sweep.
const BATCH: usize = 50;

impl WhatsApp {
    /// Sends every due message once; failures wait with jittered backoff (429 / 5xx /
    /// network) or fail for good (other 4xx, or after `whatsapp.max_attempts`).
    pub(super) async fn send_due(&self) -> Result<(), StoreError> {
        let Some(graph) = &self.graph else {
            return Ok(());
        };
        for m in self.app.store.due_outbound(Timestamp::now(), BATCH)? {
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
        let wa = &self.app.settings.whatsapp;
        match sent {
            Ok(wamid) => {
                self.app.whatsapp_api.record(true);
                metrics::counter!("whatsapp_messages_sent_total", "kind" => kind, "result" => "sent").increment(1);
                self.app.store.outbound_sent(m.id, wamid).await
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
                    self.app.whatsapp_api.record(false);
                }
                let result = if retry.is_some() { "retry" } else { "failed" };
                metrics::counter!("whatsapp_messages_sent_total", "kind" => kind, "result" => result).increment(1);
                tracing::warn!(message = m.id, error = %e, result, "WhatsApp send failed");
                self.app
                    .store
                    .outbound_failed(m.id, e.to_string(), retry)
                    .await
            }
        }
    }
}
