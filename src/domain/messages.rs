//! Messages to and from guests and the host, as the channels and the store share them:
//! WhatsApp messages received and to send with their delivery status, the thread kept per
//! chat, and emails to send.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A guest message as received, waiting for its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// WhatsApp's message id.
    pub id: String,
    /// The guest's number (international digits).
    pub from: String,
    pub profile_name: Option<String>,
    #[serde(with = "jiff::fmt::serde::timestamp::second::required")]
    pub received_at: Timestamp,
    /// `text`, `interactive`, `audio`, `image`, `location`, …
    pub kind: String,
    pub text: Option<String>,
    /// The id of the button or list row chosen.
    pub reply_id: Option<String>,
    pub media_id: Option<String>,
}

/// Where an outbound message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

/// A delivery status reported by the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    pub wamid: String,
    pub status: OutboundStatus,
    pub error: Option<String>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOutbound {
    /// International digits.
    pub to: String,
    /// `text`, `buttons`, `list`, `template`: the metric label.
    pub kind: String,
    /// The Graph API message body without `to` and `messaging_product`.
    pub body: Value,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub id: u64,
    #[serde(flatten)]
    pub message: NewOutbound,
    pub status: OutboundStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub wamid: Option<String>,
    pub last_error: Option<String>,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ThreadEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub direction: Direction,
    /// `text`, `audio`, `buttons`, `template`, …
    pub kind: String,
    /// What was written or offered, when there is text.
    pub text: Option<String>,
    /// The guest's WhatsApp profile name (inbound only).
    pub profile_name: Option<String>,
}

impl ThreadEntry {
    pub fn inbound(m: &InboundMessage) -> Self {
        ThreadEntry {
            at: m.received_at,
            direction: Direction::In,
            kind: m.kind.clone(),
            text: m.text.clone().or_else(|| m.reply_id.clone()),
            profile_name: m.profile_name.clone(),
        }
    }

    pub fn outbound(m: &NewOutbound, at: Timestamp) -> Self {
        let b = &m.body;
        let text = [
            &b["text"]["body"],
            &b["interactive"]["body"]["text"],
            &b["template"]["components"][0]["parameters"][0]["text"],
        ]
        .into_iter()
        .find_map(|v| v.as_str())
        .map(str::to_owned);
        ThreadEntry {
            at,
            direction: Direction::Out,
            kind: m.kind.clone(),
            text,
            profile_name: None,
        }
    }
}

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEmail {
    /// The recipient's address (a mailbox, `Name <addr>` or `addr`).
    pub to: String,
    /// `host` or `guest`: the metric label.
    pub kind: String,
    pub subject: String,
    pub body: String,
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    Pending,
    Sent,
    Failed,
}

/// An email in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    pub id: u64,
    #[serde(flatten)]
    pub email: NewEmail,
    pub status: EmailStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
}
