//! WhatsApp Cloud API client (blocking; call it from `spawn_blocking`): one attempt per call,
//! the outbox decides about retries.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use ureq::Agent;

use super::outbound::{self, Limits, retry_after};
use crate::config::WhatsAppSettings;

/// A send that did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429, 5xx or a network error: try again later (after the hint, if any).
    #[error("WhatsApp is unavailable: {0}")]
    Unavailable(String, Option<Duration>),
    /// Any other 4xx, or a 2xx without a message id: retrying would not help.
    #[error("WhatsApp refused the message: {0}")]
    Refused(String),
}

/// The Graph API for one business phone number.
#[derive(Clone)]
pub struct Graph {
    agent: Agent,
    messages_url: String,
    base: String,
    token: String,
}

/// Whether sending is on: a phone number id and an access token are configured.
pub fn is_configured(settings: &WhatsAppSettings) -> bool {
    settings.phone_number_id.is_some() && settings.access_token.is_some()
}

impl Graph {
    /// A client when sending is on ([`is_configured`]).
    pub fn new(settings: &WhatsAppSettings) -> Option<Graph> {
        let phone = settings.phone_number_id.clone()?;
        let token = settings.access_token.clone()?;
        let base = format!("{}/{}", settings.api_base_url, settings.api_version);
        Some(Graph {
            agent: outbound::agent(Limits {
                timeout: settings.timeout,
                max_redirects: 0,
            }),
            messages_url: format!("{base}/{phone}/messages"),
            base,
            token,
        })
    }

    /// Sends `body` (a message without `to`) to `to`; returns the message id (`wamid…`).
    pub fn send(&self, to: &str, body: &Value) -> Result<String, SendError> {
        let mut payload = body.clone();
        payload["messaging_product"] = json!("whatsapp");
        payload["recipient_type"] = json!("individual");
        payload["to"] = json!(to);
        let attempt = self
            .agent
            .post(&self.messages_url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(payload.to_string());
        let mut response = attempt.map_err(|e| SendError::Unavailable(e.to_string(), None))?;
        let status = response.status().as_u16();
        let hint = retry_after(response.headers(), Timestamp::now());
        let text = response.body_mut().read_to_string().unwrap_or_default();
        match status {
            200..=299 => serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["messages"][0]["id"].as_str().map(str::to_owned))
                .ok_or_else(|| SendError::Refused("answer without a message id".into())),
            429 | 500..=599 => Err(SendError::Unavailable(format!("HTTP {status}"), hint)),
            _ => Err(SendError::Refused(format!("HTTP {status}"))),
        }
    }

    /// Downloads media `id` (at most `max_bytes`): asks for its short-lived URL, then fetches it.
    pub fn media(&self, id: &str, max_bytes: u64) -> Result<Vec<u8>, SendError> {
        let unavailable = |e: ureq::Error| SendError::Unavailable(e.to_string(), None);
        let mut meta = self
            .agent
            .get(format!("{}/{id}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .map_err(unavailable)?;
        if !meta.status().is_success() {
            return Err(SendError::Refused(format!(
                "HTTP {}",
                meta.status().as_u16()
            )));
        }
        let info: Value =
            serde_json::from_str(&meta.body_mut().read_to_string().unwrap_or_default())
                .map_err(|e| SendError::Refused(e.to_string()))?;
        let url = info["url"]
            .as_str()
            .ok_or_else(|| SendError::Refused("media without url".into()))?;
        let mut file = self
            .agent
            .get(url)
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .map_err(unavailable)?;
        if !file.status().is_success() {
            return Err(SendError::Refused(format!(
                "HTTP {}",
                file.status().as_u16()
            )));
        }
        file.body_mut()
            .with_config()
            .limit(max_bytes)
            .read_to_vec()
            .map_err(|e| SendError::Refused(e.to_string()))
    }
}
