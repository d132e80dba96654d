//! The start-up audit: every JSON record of the store decoded once, in the background, so a
//! record that no longer decodes shows in health and in the admin's list from the start rather
//! than when something first reads it. Records whose type belongs to a channel (conversation
//! state, TLS material) are checked as JSON only.
//!
//! At 1 M reservations it decodes for about 4 s; run flat out, it took a third of the holds
//! per second while it ran (on 2 cores), and even at the lowest priority a fifth, as its reads
//! went through the store's page cache and pushed the write path's pages out. So it reads in
//! short transactions of [`CHUNK`] records and rests nine times as long as each took: about
//! 40 s for 1 M reservations on an idle machine, longer on a busy one (one long read
//! transaction would keep the writer from reusing the pages freed meanwhile).

use std::ops::Bound;
use std::time::{Duration, Instant};

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
    /// read. Stops early, between two transactions, when the store closes, so a stopping
    /// server does not wait for it. Blocking: run it on a thread of its own (see
    /// `background::run`).
    pub fn audit_records(&self) -> Result<u64, StoreError> {
        Ok(self.audit::<_, Accommodation>(&ACCOMMODATIONS)?
            + self.audit::<_, Reservation>(&RESERVATIONS)?
            + self.audit::<_, OwnerBlock>(&BLOCKS)?
            + self.audit::<_, IgnoredAny>(&IDEMPOTENCY)?
            + self.audit::<_, AdminUser>(&ADMINS)?
            + self.audit::<_, AdminSession>(&SESSIONS)?
            + self.audit::<_, PaymentRecord>(&PAYMENTS)?
            + self.audit::<_, InboxEntry>(&WEBHOOK_INBOX)?
            + self.audit::<_, DomainEvent>(&OUTBOX)?
            + self.audit::<_, InboundMessage>(&WA_INBOX)?
            + self.audit::<_, OutboundMessage>(&WA_OUTBOX)?
            + self.audit::<_, EmailMessage>(&EMAIL_OUTBOX)?
            + self.audit::<_, IgnoredAny>(&CONVERSATIONS)?
            + self.audit::<_, ThreadEntry>(&WA_THREAD)?
            + self.audit::<_, Feed>(&FEEDS)?
            + self.audit::<_, ImportedStay>(&IMPORTED)?
            + self.audit::<_, ExportSettings>(&ICAL_EXPORTS)?
            + self.audit::<_, IgnoredAny>(&TLS)?
            + self.audit::<_, PropertyContent>(&SITE_CONTENT)?
            + self.audit::<_, AccommodationContent>(&ACCOMMODATION_CONTENT)?)
    }

    /// Decodes every record of `def`, [`CHUNK`] per read transaction.
    fn audit<K, T>(&self, def: &'static JsonTable<K>) -> Result<u64, StoreError>
    where
        K: redb::Key + 'static,
        for<'a> K::SelfType<'a>: RecordKey,
        T: DeserializeOwned,
    {
        let mut read = 0;
        let mut after: Option<Vec<u8>> = None;
        loop {
            if self.is_closing() {
                return Ok(read);
            }
            let started = Instant::now();
            let (n, last) =
                self.read(|txn| self.audit_chunk::<K, T>(txn, def, after.as_deref()))?;
            read += n;
            match last {
                Some(key) if n == CHUNK as u64 => after = Some(key),
                _ => return Ok(read),
            }
            std::thread::sleep((started.elapsed() * REST).min(MAX_REST));
        }
    }

    /// Decodes up to [`CHUNK`] records of `def` after the key whose bytes are `after`; returns
    /// how many, and the bytes of the last one's key.
    fn audit_chunk<K, T>(
        &self,
        txn: &ReadTransaction,
        def: &'static JsonTable<K>,
        after: Option<&[u8]>,
    ) -> Result<(u64, Option<Vec<u8>>), StoreError>
    where
        K: redb::Key + 'static,
        for<'a> K::SelfType<'a>: RecordKey,
        T: DeserializeOwned,
    {
        let table = txn.open_table(*def)?;
        let entries = match after {
            Some(bytes) => table.range::<K::SelfType<'_>>((
                Bound::Excluded(K::from_bytes(bytes)),
                Bound::Unbounded,
            ))?,
            None => table.iter()?,
        };
        let (mut read, mut last) = (0, None);
        for entry in entries.take(CHUNK) {
            let (k, v) = entry?;
            self.unreadable
                .skip(decode_at::<_, T>(def, k.value(), v.value()))?;
            read += 1;
            last = Some(k);
        }
        Ok((
            read,
            last.map(|k| K::as_bytes(&k.value()).as_ref().to_vec()),
        ))
    }
}

/// Records decoded per read transaction.
const CHUNK: usize = 1_024;
/// How many times as long as a chunk took the audit rests after it.
const REST: u32 = 9;
/// The longest rest, so a stopping server does not wait long for the audit.
const MAX_REST: Duration = Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::STORE_FILE;

    #[test]
    fn the_audit_reads_every_record_across_chunks_and_notes_the_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let open = || Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        let (store, writer) = open();
        drop(store);
        writer.join().unwrap();
        let total = 2 * CHUNK + 7;
        let bad = format!("key{:05}", CHUNK + 3);
        {
            let db = redb::Database::create(dir.path().join(STORE_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            let mut table = txn.open_table(IDEMPOTENCY).unwrap();
            for i in 0..total {
                let key = format!("key{i:05}");
                let value: &[u8] = if key == bad { b"{" } else { b"{}" };
                table.insert(key.as_str(), value).unwrap();
            }
            drop(table);
            txn.commit().unwrap();
        }
        let (store, _writer) = open();
        assert_eq!(store.audit_records().unwrap(), total as u64);
        let noted = store.unreadable_records();
        assert_eq!(noted.len(), 1, "{noted:?}");
        assert_eq!(noted[0].table, "idempotency");
        assert_eq!(noted[0].reason, "truncated error at line 1 column 1");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(store.close());
        assert_eq!(
            store.audit_records().unwrap(),
            0,
            "a closing store is not read"
        );
    }
}
