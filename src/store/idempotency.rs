//! Idempotency keys: a retried request with the same key and body gets the first answer.

use std::time::Duration;

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{IDEMPOTENCY, decode, encode, retain_json};
use super::{Store, StoreError};

/// A client's `Idempotency-Key` for one kind of request, with a hash of that request's body.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: &'static str,
    pub key: String,
    pub request_sha256: String,
}

/// The HTTP answer remembered for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// The outcome of an idempotent operation.
#[derive(Debug)]
pub enum Replay<T> {
    /// First time: the operation ran.
    Fresh(T),
    /// Seen before with the same body: the first response.
    Stored(StoredResponse),
    /// Seen before with a different body.
    KeyReused,
}

#[derive(Serialize, Deserialize)]
struct Record {
    request_sha256: String,
    response: StoredResponse,
    created_at: Timestamp,
}

/// Runs `op` unless `key` was seen; with a key, records the response `render` makes of the
/// outcome in the same transaction.
pub fn guard<T>(
    txn: &WriteTransaction,
    key: Option<IdempotencyKey>,
    op: impl FnOnce(&WriteTransaction) -> Result<T, StoreError>,
    render: impl FnOnce(&T) -> StoredResponse,
) -> Result<Replay<T>, StoreError> {
    let Some(key) = key else {
        return op(txn).map(Replay::Fresh);
    };
    let id = format!("{}:{}", key.scope, key.key);
    let seen: Option<Record> = {
        let table = txn.open_table(IDEMPOTENCY)?;
        table
            .get(id.as_str())?
            .map(|v| decode(v.value()))
            .transpose()?
    };
    if let Some(record) = seen {
        return Ok(if record.request_sha256 == key.request_sha256 {
            Replay::Stored(record.response)
        } else {
            Replay::KeyReused
        });
    }
    let outcome = op(txn)?;
    let record = Record {
        request_sha256: key.request_sha256,
        response: render(&outcome),
        created_at: Timestamp::now(),
    };
    txn.open_table(IDEMPOTENCY)?
        .insert(id.as_str(), encode(&record).as_slice())?;
    Ok(Replay::Fresh(outcome))
}

impl Store {
    /// Forgets idempotency keys older than `ttl`; returns how many.
    pub async fn purge_idempotency(&self, ttl: Duration) -> Result<usize, StoreError> {
        self.writer
            .write(move |txn| {
                let cutoff =
                    Timestamp::now() - jiff::SignedDuration::try_from(ttl).unwrap_or_default();
                retain_json(&mut txn.open_table(IDEMPOTENCY)?, |r: &Record| {
                    r.created_at > cutoff
                })
            })
            .await
    }
}
