//! Each WhatsApp chat's recent messages, both ways, for the host to read in the web UI.
//! Written in the same transaction as the message it records; the last
//! [`THREAD_KEEP`] messages of a chat are kept.

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{META, WA_THREAD, decode, encode};
use super::whatsapp::{InboundMessage, NewOutbound};
use super::{Store, StoreError};

/// Messages kept per chat.
pub const THREAD_KEEP: usize = 200;

const NEXT_THREAD: &str = "next_whatsapp_thread_id";

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
    /// The kept messages of `phone`'s chat, oldest first.
    pub fn thread(&self, phone: &str) -> Result<Vec<ThreadEntry>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(WA_THREAD)?;
            table
                .range((phone, 0)..=(phone, u64::MAX))?
                .map(|e| decode(e?.1.value()))
                .collect()
        })
    }
}
