//! The host's view of the WhatsApp chats: who wrote, when, whether the host has taken over,
//! and each chat's recent messages.

use jiff::Timestamp;
use serde::Serialize;

use super::WhatsApp;
use super::dialog::{Conversation, RESUME_KIND, TAKE_OVER_KIND};
use crate::domain::messages::{Direction, ThreadEntry};
use crate::store::StoreError;

/// One chat in the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatSummary {
    /// The guest's number, international digits.
    pub phone: String,
    pub profile_name: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity: Option<Timestamp>,
    /// The host is answering: the bot stays silent.
    pub handover: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub handover_until: Option<Timestamp>,
    /// Reservations taken in this chat.
    pub reservations: Vec<String>,
}

/// One chat with its messages, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Chat {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub messages: Vec<ThreadEntry>,
}

/// Host commands travel through the inbox like messages; they are not part of the chat.
fn is_command(e: &ThreadEntry) -> bool {
    e.direction == Direction::In && (e.kind == RESUME_KIND || e.kind == TAKE_OVER_KIND)
}

impl WhatsApp {
    fn summary(
        &self,
        phone: String,
        c: Conversation,
        now: Timestamp,
    ) -> Result<ChatSummary, StoreError> {
        let thread = self.app.store.thread(&phone)?;
        let profile_name = thread.iter().rev().find_map(|e| e.profile_name.clone());
        let last_activity = thread
            .iter()
            .rev()
            .find(|e| !is_command(e))
            .map(|e| e.at)
            .or(c.last_message_at);
        let handover_until = c.handover_until.filter(|t| *t > now);
        Ok(ChatSummary {
            phone,
            profile_name,
            last_activity,
            handover: handover_until.is_some(),
            handover_until,
            reservations: c.reservations,
        })
    }

    /// Every chat, the most recently active first.
    pub fn chats(&self) -> Result<Vec<ChatSummary>, StoreError> {
        let now = Timestamp::now();
        let mut out = self
            .app
            .store
            .conversations::<Conversation>(|_| true)?
            .into_iter()
            .map(|(phone, c)| self.summary(phone, c, now))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(out)
    }

    /// One chat with its kept messages; `None` when nobody wrote from `phone`.
    pub fn chat(&self, phone: &str) -> Result<Option<Chat>, StoreError> {
        let Some(c) = self.app.store.conversation::<Conversation>(phone)? else {
            return Ok(None);
        };
        let messages = self
            .app
            .store
            .thread(phone)?
            .into_iter()
            .filter(|e| !is_command(e))
            .collect();
        Ok(Some(Chat {
            summary: self.summary(phone.to_owned(), c, Timestamp::now())?,
            messages,
        }))
    }
}
