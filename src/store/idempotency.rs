//! Idempotency keys: a retried request with the same key and body gets what was remembered
//! of the first outcome (the caller chooses what that is), recorded in the same commit.

use std::time::Duration;

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::tables::{IDEMPOTENCY, encode};
use super::unreadable::{decode_at, retain_json};
use super::{Store, StoreError};

/// A client's key for one kind of request, with a hash of that request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: &'static str,
    pub key: String,
    pub request_sha256: String,
}

/// The outcome of an idempotent operation whose first outcome is remembered as `R`.
#[derive(Debug)]
pub enum Replay<T, R> {
    /// First time: the operation ran.
    Fresh(T),
    /// Seen before with the same request: what was remembered of the first outcome.
    Stored(R),
    /// Seen before with a different request.
    KeyReused,
}

#[derive(Serialize, Deserialize)]
struct Record<R> {
    request_sha256: String,
    response: R,
    created_at: Timestamp,
}

/// The part of a record the purge reads.
#[derive(Deserialize)]
struct Age {
    created_at: Timestamp,
}

/// Runs `op` unless `key` was seen; with a key, records what `remember` makes of the outcome
/// in the same transaction (`None`: an outcome a retry should not get, e.g. a refusal that
/// lasts only until a hold lapses, is not recorded).
pub fn guard<T, R: Serialize + DeserializeOwned>(
    txn: &WriteTransaction,
    key: Option<IdempotencyKey>,
    op: impl FnOnce(&WriteTransaction) -> Result<T, StoreError>,
    remember: impl FnOnce(&T) -> Option<R>,
) -> Result<Replay<T, R>, StoreError> {
    let Some(key) = key else {
        return op(txn).map(Replay::Fresh);
    };
    let id = format!("{}:{}", key.scope, key.key);
    let seen: Option<Record<R>> = {
        let table = txn.open_table(IDEMPOTENCY)?;
        table
            .get(id.as_str())?
            .map(|v| decode_at(&IDEMPOTENCY, id.as_str(), v.value()))
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
    if let Some(response) = remember(&outcome) {
        let record = Record {
            request_sha256: key.request_sha256,
            response,
            created_at: Timestamp::now(),
        };
        txn.open_table(IDEMPOTENCY)?
            .insert(id.as_str(), encode(&record).as_slice())?;
    }
    Ok(Replay::Fresh(outcome))
}

impl Store {
    /// Forgets idempotency keys older than `ttl`; returns how many.
    pub async fn purge_idempotency(&self, ttl: Duration) -> Result<usize, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let cutoff =
                    Timestamp::now() - jiff::SignedDuration::try_from(ttl).unwrap_or_default();
                retain_json(txn, &IDEMPOTENCY, &unreadable, |r: &Age| {
                    r.created_at > cutoff
                })
            })
            .await
    }
}
