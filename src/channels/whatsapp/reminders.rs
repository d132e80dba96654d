//! Holds taken over WhatsApp are followed until they end: one reminder with the payment link
//! shortly before the hold lapses, and a notice when it lapsed.

use jiff::{SignedDuration, Timestamp};

use super::texts::render;
use super::{Conversation, WhatsApp};
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::Status;
use crate::store::{SkipUnreadable, StoreError};

impl WhatsApp {
    /// Reminds and announces for every watched hold that needs it (the roster's chats).
    pub(super) async fn follow_holds(&self) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let before = SignedDuration::try_from(self.app.settings.whatsapp.reminder_before)
            .unwrap_or_default();
        for phone in self.roster.following() {
            let Some(mut conv) = self
                .app
                .store
                .conversation::<Conversation>(&phone)
                .skip_unreadable()?
            else {
                self.roster.forget(&phone);
                continue;
            };
            let (watched_before, reminded_before) = (conv.watched.clone(), conv.reminded.clone());
            let mut messages = Vec::new();
            let mut still = Vec::new();
            for code in std::mem::take(&mut conv.watched) {
                let Some(parsed) = ReservationCode::parse(&code) else {
                    continue;
                };
                // Gone, or unreadable (noted): no longer followed.
                let Some(r) = self.app.store.reservation(&parsed).skip_unreadable()? else {
                    continue;
                };
                let lapsed = r.status == Status::Expired
                    || (r.status == Status::PreReserved && r.expires_at.is_some_and(|t| t <= now));
                if lapsed {
                    messages.extend(self.notification(
                        &phone,
                        render("hold_expired", &self.reservation_vars(&r)),
                        now,
                    )?);
                } else if r.status == Status::PreReserved {
                    let due = r
                        .expires_at
                        .is_some_and(|t| t.duration_since(now) <= before);
                    if due && !conv.reminded.contains(&code) && r.payment.payment_url.is_some() {
                        messages.extend(self.notification(
                            &phone,
                            render("hold_reminder", &self.reservation_vars(&r)),
                            now,
                        )?);
                        conv.reminded.push(code.clone());
                    }
                    still.push(code);
                }
            }
            conv.reminded.retain(|c| still.contains(c));
            conv.watched = still;
            if conv.watched != watched_before || conv.reminded != reminded_before {
                self.app
                    .store
                    .save_conversation(phone.clone(), conv.clone(), messages)
                    .await?;
            }
            self.roster.note(&phone, &conv);
        }
        Ok(())
    }
}
