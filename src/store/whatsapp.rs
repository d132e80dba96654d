//! The WhatsApp channel's durable state: received message ids (dedupe), the inbox of guest
//! messages still to answer, the outbox of messages to send with their delivery status, and
//! per-phone conversation state.

use jiff::Timestamp;
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::outbox::{EventPage, events_after_cursor};
use super::queue::{self, Queued, next_id};
use super::tables::{CONVERSATIONS, META, WA_INBOX, WA_OUTBOX, WA_SEEN, WA_WAMID, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError};
use crate::domain::messages::{
    DeliveryStatus, InboundMessage, NewOutbound, OutboundMessage, OutboundStatus, ThreadEntry,
};

const NEXT_INBOX: &str = "next_whatsapp_inbox_id";
const NEXT_OUTBOX: &str = "next_whatsapp_outbox_id";
const EVENTS_CURSOR: &str = "whatsapp_events_cursor";

impl Queued for OutboundMessage {
    fn is_pending(&self) -> bool {
        self.status == OutboundStatus::Pending
    }
    fn created_at(&self) -> Timestamp {
        self.created_at
    }
    fn next_attempt_at(&self) -> Timestamp {
        self.next_attempt_at
    }
    fn attempted(&mut self, error: Option<String>) {
        self.attempts += 1;
        self.last_error = error;
    }
    fn retry_at(&mut self, at: Timestamp) {
        self.next_attempt_at = at;
    }
    fn give_up(&mut self) {
        self.status = OutboundStatus::Failed;
    }
}

fn enqueue(txn: &WriteTransaction, messages: Vec<NewOutbound>) -> Result<(), StoreError> {
    let now = Timestamp::now();
    for message in messages {
        let id = next_id(txn, NEXT_OUTBOX)?;
        let record = OutboundMessage {
            id,
            message,
            status: OutboundStatus::Pending,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            wamid: None,
            last_error: None,
        };
        super::thread::append(
            txn,
            &record.message.to,
            ThreadEntry::outbound(&record.message, now),
        )?;
        queue::insert(txn, &WA_OUTBOX, id, &record)?;
    }
    Ok(())
}

/// Applies `change` to outbound message `id`, if it is there and readable.
fn update_outbound(
    txn: &WriteTransaction,
    unreadable: &Unreadable,
    id: u64,
    change: impl FnOnce(&mut OutboundMessage),
) -> Result<(), StoreError> {
    queue::update(txn, (&WA_OUTBOX, unreadable), id, change)
}

impl Store {
    /// Records new guest messages (dropping ids seen before) and applies delivery statuses,
    /// in one durable commit; returns how many messages were new.
    pub async fn record_whatsapp(
        &self,
        messages: Vec<InboundMessage>,
        statuses: Vec<DeliveryStatus>,
    ) -> Result<usize, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let mut fresh = 0;
                for m in messages {
                    let mut seen = txn.open_table(WA_SEEN)?;
                    if seen.get(m.id.as_str())?.is_some() {
                        continue;
                    }
                    seen.insert(m.id.as_str(), m.received_at.as_millisecond())?;
                    drop(seen);
                    let seq = next_id(txn, NEXT_INBOX)?;
                    super::thread::append(txn, &m.from, ThreadEntry::inbound(&m))?;
                    txn.open_table(WA_INBOX)?
                        .insert(seq, encode(&m).as_slice())?;
                    fresh += 1;
                }
                for s in statuses {
                    let id = txn
                        .open_table(WA_WAMID)?
                        .get(s.wamid.as_str())?
                        .map(|v| v.value());
                    if let Some(id) = id {
                        update_outbound(txn, &unreadable, id, |m| {
                            if s.status > m.status {
                                m.status = s.status;
                                if s.error.is_some() {
                                    m.last_error = s.error;
                                }
                            }
                        })?;
                    }
                }
                Ok(fresh)
            })
            .await
    }

    /// Guest messages waiting for an answer, oldest first (unreadable ones skipped: they stay
    /// in the inbox for a binary that reads them).
    pub fn whatsapp_inbox(&self, limit: usize) -> Result<Vec<(u64, InboundMessage)>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(WA_INBOX)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                if out.len() == limit {
                    break;
                }
                let (k, v) = entry?;
                let (seq, decoded) = (k.value(), decode_at(&WA_INBOX, k.value(), v.value()));
                out.extend(self.unreadable.skip(decoded)?.map(|m| (seq, m)));
            }
            Ok(out)
        })
    }

    /// The conversation state of `phone`, if any; [`StoreError::Unreadable`] when it does not
    /// decode.
    pub fn conversation<T: DeserializeOwned>(&self, phone: &str) -> Result<Option<T>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(CONVERSATIONS)?;
            table
                .get(phone)?
                .map(|v| decode_at(&CONVERSATIONS, phone, v.value()))
                .transpose()
        })
    }

    /// Answers inbox entry `seq` in one commit: the conversation's new state and the replies.
    pub async fn answer_inbound<T: Serialize + Send + 'static>(
        &self,
        seq: u64,
        phone: String,
        state: T,
        replies: Vec<NewOutbound>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(WA_INBOX)?.remove(seq)?;
                txn.open_table(CONVERSATIONS)?
                    .insert(phone.as_str(), encode(&state).as_slice())?;
                enqueue(txn, replies)
            })
            .await
    }

    /// Every conversation whose state passes `keep`, with its phone.
    pub fn conversations<T: DeserializeOwned>(
        &self,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(CONVERSATIONS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at::<_, T>(&CONVERSATIONS, k.value(), v.value());
                if let Some(c) = self.unreadable.skip(decoded)?
                    && keep(&c)
                {
                    out.push((k.value().to_owned(), c));
                }
            }
            Ok(out)
        })
    }

    /// Saves a conversation and queues messages in one commit.
    pub async fn save_conversation<T: Serialize + Send + 'static>(
        &self,
        phone: String,
        state: T,
        messages: Vec<NewOutbound>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(CONVERSATIONS)?
                    .insert(phone.as_str(), encode(&state).as_slice())?;
                enqueue(txn, messages)
            })
            .await
    }

    /// Queues messages for sending.
    pub async fn enqueue_whatsapp(&self, messages: Vec<NewOutbound>) -> Result<(), StoreError> {
        self.writer.write(move |txn| enqueue(txn, messages)).await
    }

    /// Pending messages due at `now`, oldest first.
    pub fn due_outbound(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        self.read(|txn| {
            queue::due(
                txn,
                (&WA_OUTBOX, &self.unreadable),
                &self.outbox_marks.whatsapp,
                now,
                limit,
            )
        })
    }

    /// Every outbound message, oldest first.
    pub fn outbound_messages(&self) -> Result<Vec<OutboundMessage>, StoreError> {
        self.read(|txn| queue::all(txn, (&WA_OUTBOX, &self.unreadable)))
    }

    /// How many messages wait to be sent, and the creation time of the oldest.
    pub fn outbound_backlog(&self) -> Result<(u64, Option<Timestamp>), StoreError> {
        self.read(|txn| {
            queue::backlog::<OutboundMessage>(
                txn,
                (&WA_OUTBOX, &self.unreadable),
                &self.outbox_marks.whatsapp,
            )
        })
    }

    /// Marks message `id` sent as `wamid`.
    pub async fn outbound_sent(&self, id: u64, wamid: String) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                txn.open_table(WA_WAMID)?.insert(wamid.as_str(), id)?;
                update_outbound(txn, &unreadable, id, |m| {
                    m.attempted(None);
                    m.status = m.status.max(OutboundStatus::Sent);
                    m.wamid = Some(wamid);
                })
            })
            .await
    }

    /// Notes a failed attempt: tried again at `retry_at`, or failed for good without one.
    pub async fn outbound_failed(
        &self,
        id: u64,
        error: String,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let queue = (&WA_OUTBOX, &unreadable);
                queue::failed::<OutboundMessage>(txn, queue, id, error, retry_at)
            })
            .await
    }

    /// The next page of domain events recorded after the channel's cursor.
    pub fn undelivered_events(&self) -> Result<EventPage, StoreError> {
        self.read(|txn| events_after_cursor(txn, EVENTS_CURSOR, &self.unreadable))
    }

    /// Moves the event cursor to `seq` and queues the messages those events became.
    pub async fn events_delivered(
        &self,
        seq: u64,
        messages: Vec<NewOutbound>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(META)?.insert(EVENTS_CURSOR, seq)?;
                enqueue(txn, messages)
            })
            .await
    }

    /// Forgets message ids received more than `ttl` ago (Meta retries for hours, not days).
    pub async fn purge_whatsapp_seen(&self, ttl: std::time::Duration) -> Result<usize, StoreError> {
        let cutoff =
            Timestamp::now().as_millisecond() - i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.writer
            .write(move |txn| {
                let mut removed = 0;
                txn.open_table(WA_SEEN)?.retain(|_, at| {
                    let keep = at >= cutoff;
                    removed += usize::from(!keep);
                    keep
                })?;
                Ok(removed)
            })
            .await
    }

    /// How many guest messages wait in the inbox.
    pub fn whatsapp_inbox_len(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(WA_INBOX)?.len()?))
    }
}
