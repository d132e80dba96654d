//! Which conversations the worker's sweeps have to look at: the ones following holds and the
//! ones active within `whatsapp.conversation_timeout` (the `conversations_active` gauge).
//! Kept in memory and changed only by the worker, which makes every conversation write; filled
//! by one read of every conversation when the worker starts. Without it each sweep decoded
//! every conversation ever had, twice: the soak's p99 grew with the number of chats.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::Conversation;

/// The worker's roster; cheap to clone.
#[derive(Clone, Default)]
pub(super) struct Roster(Arc<Mutex<Lists>>);

#[derive(Default)]
struct Lists {
    /// Phones whose conversation follows at least one hold.
    following: BTreeSet<String>,
    /// When each recently active guest last wrote (pruned at every count).
    last_message: BTreeMap<String, Timestamp>,
}

impl Roster {
    /// Notes the state just written for `phone`.
    pub fn note(&self, phone: &str, conv: &Conversation) {
        let mut lists = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if conv.watched.is_empty() {
            lists.following.remove(phone);
        } else if !lists.following.contains(phone) {
            lists.following.insert(phone.to_owned());
        }
        match conv.last_message_at {
            Some(at) => {
                lists.last_message.insert(phone.to_owned(), at);
            }
            None => {
                lists.last_message.remove(phone);
            }
        }
    }

    /// Forgets `phone`'s chat (gone, or unreadable).
    pub fn forget(&self, phone: &str) {
        let mut lists = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lists.following.remove(phone);
        lists.last_message.remove(phone);
    }

    /// Phones whose conversation follows holds.
    pub fn following(&self) -> Vec<String> {
        let lists = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lists.following.iter().cloned().collect()
    }

    /// Conversations whose guest wrote within `idle` of `now`; forgets the others.
    pub fn active(&self, now: Timestamp, idle: Duration) -> usize {
        let idle = SignedDuration::try_from(idle).unwrap_or_default();
        let mut lists = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lists
            .last_message
            .retain(|_, at| now.duration_since(*at) < idle);
        lists.last_message.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(watched: &[&str], last: Option<Timestamp>) -> Conversation {
        Conversation {
            watched: watched.iter().map(|s| (*s).to_owned()).collect(),
            last_message_at: last,
            ..Conversation::default()
        }
    }

    #[test]
    fn follows_a_chat_while_it_watches_holds_and_counts_it_while_it_is_recent() {
        let roster = Roster::default();
        let now = Timestamp::now();
        let idle = Duration::from_secs(1800);
        roster.note("549351", &conv(&["RES1"], Some(now)));
        roster.note(
            "549352",
            &conv(&[], Some(now - SignedDuration::from_hours(1))),
        );
        assert_eq!(roster.following(), ["549351"]);
        assert_eq!(roster.active(now, idle), 1);
        roster.note("549351", &conv(&[], Some(now)));
        assert!(roster.following().is_empty());
        assert_eq!(roster.active(now + SignedDuration::from_mins(31), idle), 0);
    }
}
