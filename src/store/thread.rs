//! Each WhatsApp chat's recent messages, both ways, for the host to read in the web UI.
//! Written in the same transaction as the message it records; the last
//! [`THREAD_KEEP`] messages of a chat are kept.

use super::tables::{META, WA_THREAD, encode};
use super::unreadable::decode_at;
use super::{Store, StoreError};
use crate::domain::messages::ThreadEntry;
use redb::{ReadableTable, WriteTransaction};

/// Messages kept per chat.
pub const THREAD_KEEP: usize = 200;

const NEXT_THREAD: &str = "next_whatsapp_thread_id";

/// Appends `entry` to `phone`'s chat and drops what falls beyond [`THREAD_KEEP`].
pub(super) fn append(
    txn: &WriteTransaction,
    phone: &str,
    entry: ThreadEntry,
) -> Result<(), StoreError> {
    let seq = {
        let mut meta = txn.open_table(META)?;
        let seq = meta.get(NEXT_THREAD)?.map_or(1, |v| v.value());
        meta.insert(NEXT_THREAD, seq + 1)?;
        seq
    };
    let mut table = txn.open_table(WA_THREAD)?;
    table.insert((phone, seq), encode(&entry).as_slice())?;
    let old: Vec<u64> = table
        .range((phone, 0)..=(phone, u64::MAX))?
        .rev()
        .skip(THREAD_KEEP)
        .map(|e| e.map(|(k, _)| k.value().1))
        .collect::<Result<_, _>>()?;
    for seq in old {
        table.remove((phone, seq))?;
    }
    Ok(())
}

impl Store {
    /// The kept (readable) messages of `phone`'s chat, oldest first.
    pub fn thread(&self, phone: &str) -> Result<Vec<ThreadEntry>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(WA_THREAD)?;
            let mut out = Vec::new();
            for entry in table.range((phone, 0)..=(phone, u64::MAX))? {
                let (k, v) = entry?;
                out.extend(
                    self.unreadable
                        .skip(decode_at(&WA_THREAD, k.value(), v.value()))?,
                );
            }
            Ok(out)
        })
    }
}
