//! The start-up audit: every JSON record of the store decoded once, in the background, so a
//! record that no longer decodes shows in health and in the admin's list from the start rather
//! than when something first reads it. Records whose type belongs to a channel (conversation
//! state, TLS material) are checked as JSON only.

use redb::{ReadTransaction, ReadableTable};
use serde::de::{DeserializeOwned, IgnoredAny};

use super::admins::{AdminSession, AdminUser};
use super::inbox::InboxEntry;
use super::tables::{
    ACCOMMODATION_CONTENT, ACCOMMODATIONS, ADMINS, BLOCKS, CONVERSATIONS, EMAIL_OUTBOX, FEEDS,
    ICAL_EXPORTS, IDEMPOTENCY, IMPORTED, OUTBOX, PAYMENTS, RESERVATIONS, SESSIONS, SITE_CONTENT,
    TLS, WA_INBOX, WA_OUTBOX, WA_THREAD, WEBHOOK_INBOX,
};
use super::unreadable::{JsonTable, RecordKey, decode_at};
use super::{Store, StoreError};
use crate::domain::accommodation::Accommodation;
use crate::domain::block::OwnerBlock;
use crate::domain::content::{AccommodationContent, PropertyContent};
use crate::domain::events::DomainEvent;
use crate::domain::ical::export::ExportSettings;
use crate::domain::ical::import::{Feed, ImportedStay};
use crate::domain::messages::{EmailMessage, InboundMessage, OutboundMessage, ThreadEntry};
use crate::domain::payment::PaymentRecord;
use crate::domain::reservation::Reservation;

impl Store {
    /// Decodes every record once and notes those that do not decode; returns how many were
    /// read. Blocking: run it from `spawn_blocking`.
    pub fn audit_records(&self) -> Result<u64, StoreError> {
        self.read(|txn| {
            let mut read = 0;
            read += self.audit::<_, Accommodation>(txn, &ACCOMMODATIONS)?;
            read += self.audit::<_, Reservation>(txn, &RESERVATIONS)?;
            read += self.audit::<_, OwnerBlock>(txn, &BLOCKS)?;
            read += self.audit::<_, IgnoredAny>(txn, &IDEMPOTENCY)?;
            read += self.audit::<_, AdminUser>(txn, &ADMINS)?;
            read += self.audit::<_, AdminSession>(txn, &SESSIONS)?;
            read += self.audit::<_, PaymentRecord>(txn, &PAYMENTS)?;
            read += self.audit::<_, InboxEntry>(txn, &WEBHOOK_INBOX)?;
            read += self.audit::<_, DomainEvent>(txn, &OUTBOX)?;
            read += self.audit::<_, InboundMessage>(txn, &WA_INBOX)?;
            read += self.audit::<_, OutboundMessage>(txn, &WA_OUTBOX)?;
            read += self.audit::<_, EmailMessage>(txn, &EMAIL_OUTBOX)?;
            read += self.audit::<_, IgnoredAny>(txn, &CONVERSATIONS)?;
            read += self.audit::<_, ThreadEntry>(txn, &WA_THREAD)?;
            read += self.audit::<_, Feed>(txn, &FEEDS)?;
            read += self.audit::<_, ImportedStay>(txn, &IMPORTED)?;
            read += self.audit::<_, ExportSettings>(txn, &ICAL_EXPORTS)?;
            read += self.audit::<_, IgnoredAny>(txn, &TLS)?;
            read += self.audit::<_, PropertyContent>(txn, &SITE_CONTENT)?;
            read += self.audit::<_, AccommodationContent>(txn, &ACCOMMODATION_CONTENT)?;
            Ok(read)
        })
    }

    fn audit<K, T>(
        &self,
        txn: &ReadTransaction,
        def: &'static JsonTable<K>,
    ) -> Result<u64, StoreError>
    where
        K: redb::Key + 'static,
        for<'a> K::SelfType<'a>: RecordKey,
        T: DeserializeOwned,
    {
        let table = txn.open_table(*def)?;
        let mut read = 0;
        for entry in table.iter()? {
            let (k, v) = entry?;
            self.unreadable
                .skip(decode_at::<_, T>(def, k.value(), v.value()))?;
            read += 1;
        }
        Ok(read)
    }
}
