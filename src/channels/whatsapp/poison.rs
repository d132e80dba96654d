//! Guest messages whose answer panics. The worker answers each message in a task of its own, so
//! a panic ends that attempt only; the message stays first in the inbox and is tried again on
//! the next pass. One that panics [`MAX_ATTEMPTS`] times is answered with an apology and taken
//! out of the inbox (`whatsapp_messages_poisoned_total`), so one message never silences the
//! channel for every other guest. Attempts are counted in memory: after a restart a poisoned
//! message gets its attempts again, still a bounded number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Panicking attempts after which a message is set aside.
pub const MAX_ATTEMPTS: u32 = 3;

/// Panics per inbox entry, for the entries that panicked and are not yet answered.
#[derive(Clone, Default)]
pub struct Poisoned {
    attempts: Arc<Mutex<HashMap<u64, u32>>>,
}

impl Poisoned {
    /// Notes a panic while answering inbox entry `seq`: `true` once it is to be set aside.
    pub fn panicked(&self, seq: u64) -> bool {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let n = attempts.entry(seq).or_default();
        *n += 1;
        if *n >= MAX_ATTEMPTS {
            attempts.remove(&seq);
            return true;
        }
        false
    }

    /// Forgets `seq` once it is answered.
    pub fn answered(&self, seq: u64) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if !attempts.is_empty() {
            attempts.remove(&seq);
        }
    }
}

/// The text that makes answering panic in debug builds, so tests prove over the real webhook
/// and worker that a panicking message is set aside (no input is known to panic: each one found
/// was fixed at its root). Release builds have no such text.
pub const PANIC_TEXT: &str = "\u{1f4a5} alojamientos test: panic while answering \u{1f4a5}";

/// Panics on [`PANIC_TEXT`] in debug builds; nothing in release builds.
pub fn failpoint(msg: &crate::domain::messages::InboundMessage) {
    if cfg!(debug_assertions) && msg.text.as_deref() == Some(PANIC_TEXT) {
        panic!("failpoint: {PANIC_TEXT}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_set_aside_after_its_third_panic_and_answered_ones_are_forgotten() {
        let p = Poisoned::default();
        assert!(!p.panicked(7));
        assert!(!p.panicked(7));
        assert!(!p.panicked(8));
        assert!(p.panicked(7), "third panic of 7");
        assert!(!p.panicked(7), "counted afresh once set aside");
        p.answered(8);
        assert!(!p.panicked(8), "8 starts over after it was answered");
    }

    #[tokio::test]
    async fn a_panicking_task_is_reported_as_a_panic_to_its_awaiter() {
        let joined = tokio::spawn(async { panic!("boom") }).await;
        assert!(joined.is_err_and(|e| e.is_panic()));
    }
}
