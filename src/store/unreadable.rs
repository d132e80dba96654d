//! Stored records that no longer decode. One never stops a job, a worker or a list: iterations
//! skip it and note it here, point reads answer [`StoreError::Unreadable`] (which the store
//! notes too). Each record is counted once in `store_decode_errors_total{table}` and logged
//! once with its key (hashed where the key is personal: phones, emails, tokens). Nothing is
//! deleted or rewritten, so a newer binary can read the record again. Health and
//! `GET /api/v1/admin/store/decode-errors` show what was noted since the start.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use redb::{TableDefinition, TableHandle};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::tables;

/// Records listed at most; beyond it they are still skipped, but counted and logged only once
/// in all (a store written by an incompatible binary may have millions).
const MAX_LISTED: usize = 10_000;

/// A JSON table: key → record.
pub type JsonTable<K> = TableDefinition<'static, K, &'static [u8]>;

/// One record that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnreadableRecord {
    /// The redb table, e.g. `reservations`.
    pub table: &'static str,
    /// Its key as stored (a reservation code, an id), or `sha256:` and the start of the key's
    /// hash where the key is personal (phones, emails, session tokens, idempotency keys).
    pub key: String,
    /// What is wrong, without the record's content: `syntax` or `data`, and where.
    pub reason: String,
    /// When this process first met it.
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Timestamp,
}

impl std::fmt::Display for UnreadableRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} record {} cannot be decoded ({})",
            self.table, self.key, self.reason
        )
    }
}

/// A key as written in a log line or an admin listing.
pub trait RecordKey {
    fn render(&self) -> String;
}

impl RecordKey for &str {
    fn render(&self) -> String {
        (*self).to_owned()
    }
}

impl RecordKey for u64 {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl RecordKey for (u64, &str) {
    fn render(&self) -> String {
        format!("{}/{}", self.0, self.1)
    }
}

impl RecordKey for (&str, u64) {
    fn render(&self) -> String {
        format!("{}/{}", self.0, self.1)
    }
}

/// Tables whose keys are personal (phones, emails, token hashes, client-chosen keys): their keys
/// are shown as a hash prefix only.
fn personal_key(table: &str) -> bool {
    [
        tables::CONVERSATIONS.name(),
        tables::WA_THREAD.name(),
        tables::SESSIONS.name(),
        tables::IDEMPOTENCY.name(),
        tables::ADMINS.name(),
    ]
    .contains(&table)
}

/// What is wrong with a record, in words that carry none of its content (serde_json's own
/// messages quote the offending value).
fn reason(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Io => "io",
    };
    format!("{kind} error at line {} column {}", e.line(), e.column())
}

/// Decodes the record `key` of `table`; one that does not decode is
/// [`StoreError::Unreadable`], naming both.
pub fn decode_at<K: redb::Key + 'static, T: DeserializeOwned>(
    table: &'static JsonTable<K>,
    key: impl RecordKey,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let name = table.name();
        let raw = key.render();
        let key = if personal_key(name) {
            format!("sha256:{}", &crate::secret::sha256_hex(&raw)[..12])
        } else {
            raw
        };
        StoreError::Unreadable(Box::new(UnreadableRecord {
            table: name,
            key,
            reason: reason(&e),
            first_seen: Timestamp::now(),
        }))
    })
}

/// What the store noted since it opened; shared by every handle of one store.
#[derive(Debug, Clone, Default)]
pub struct Unreadable {
    seen: Arc<Mutex<Noted>>,
}

#[derive(Debug, Default)]
struct Noted {
    records: BTreeMap<(&'static str, String), UnreadableRecord>,
    overflow: bool,
}

impl Unreadable {
    /// Notes `record` (counted and logged the first time only).
    pub fn note(&self, record: &UnreadableRecord) {
        let mut noted = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let id = (record.table, record.key.clone());
        if noted.records.contains_key(&id) || noted.overflow {
            return;
        }
        metrics::counter!("store_decode_errors_total", "table" => record.table).increment(1);
        if noted.records.len() >= MAX_LISTED {
            noted.overflow = true;
            tracing::error!(
                listed = MAX_LISTED,
                "more stored records cannot be decoded than are listed; the rest are skipped unlisted"
            );
            return;
        }
        tracing::error!(
            table = record.table,
            key = %record.key,
            reason = %record.reason,
            "a stored record cannot be decoded: it is skipped, everything else goes on \
             (RUNBOOK: store record unreadable)"
        );
        noted.records.insert(id, record.clone());
    }

    /// Notes the record an error names, if it is [`StoreError::Unreadable`].
    pub fn note_error(&self, error: &StoreError) {
        if let StoreError::Unreadable(record) = error {
            self.note(record);
        }
    }

    /// `Some(value)`, or `None` for a record that does not decode (noted); other failures pass.
    pub fn skip<T>(&self, decoded: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
        match decoded {
            Ok(value) => Ok(Some(value)),
            Err(StoreError::Unreadable(record)) => {
                self.note(&record);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// Everything noted, by table and key.
    pub fn list(&self) -> Vec<UnreadableRecord> {
        let noted = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        noted.records.values().cloned().collect()
    }

    /// How many records are listed.
    pub fn count(&self) -> usize {
        let noted = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        noted.records.len()
    }
}

/// Removes the records of `def` that `keep` rejects; returns how many were removed. A record
/// that does not decode is kept (a newer binary may read it) and noted.
pub fn retain_json<T: DeserializeOwned>(
    txn: &redb::WriteTransaction,
    def: &'static JsonTable<&'static str>,
    unreadable: &Unreadable,
    keep: impl Fn(&T) -> bool,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    txn.open_table(*def)?.retain(|k, v| {
        let kept = match decode_at::<_, T>(def, k, v) {
            Ok(record) => keep(&record),
            Err(e) => {
                unreadable.note_error(&e);
                true
            }
        };
        removed += usize::from(!kept);
        kept
    })?;
    Ok(removed)
}

/// Every readable record of a JSON table keyed by number, with its key, in key order (one that
/// does not decode is noted and left out).
pub fn readable_all<T: DeserializeOwned>(
    table: &impl redb::ReadableTable<u64, &'static [u8]>,
    def: &'static JsonTable<u64>,
    unreadable: &Unreadable,
) -> Result<Vec<(u64, T)>, StoreError> {
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        let decoded = decode_at(def, k.value(), v.value());
        out.extend(unreadable.skip(decoded)?.map(|record| (k.value(), record)));
    }
    Ok(out)
}

/// A point read whose record may be unreadable: for callers to whom such a record is as good as
/// absent (a worker that must go on, a guest who must not learn that a code exists). The store
/// has already noted it.
pub trait SkipUnreadable<T> {
    fn skip_unreadable(self) -> Result<Option<T>, StoreError>;
}

impl<T> SkipUnreadable<T> for Result<Option<T>, StoreError> {
    fn skip_unreadable(self) -> Result<Option<T>, StoreError> {
        match self {
            Err(StoreError::Unreadable(_)) => Ok(None),
            other => other,
        }
    }
}

/// Creates `store_decode_errors_total` at zero for every JSON table.
pub fn register_metrics() {
    for table in tables::JSON_TABLES {
        metrics::counter!("store_decode_errors_total", "table" => table.name()).increment(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_does_not_decode_is_named_without_its_content() {
        let err =
            decode_at::<_, u32>(&tables::RESERVATIONS, "RES1", br#""Ana Perez""#).unwrap_err();
        let StoreError::Unreadable(record) = err else {
            panic!("{err}")
        };
        assert_eq!(
            (record.table, record.key.as_str()),
            ("reservations", "RES1")
        );
        assert!(record.reason.starts_with("data error"), "{}", record.reason);
        assert!(!record.to_string().contains("Ana"), "{record}");
        let err = decode_at::<_, serde_json::Value>(&tables::CONVERSATIONS, "5491122334455", b"{")
            .unwrap_err();
        let StoreError::Unreadable(record) = err else {
            panic!("{err}")
        };
        assert!(record.key.starts_with("sha256:"), "a phone is not shown");
        assert_eq!(record.reason, "truncated error at line 1 column 1");
    }

    #[test]
    fn iterations_skip_and_note_once_and_other_failures_pass() {
        let noted = Unreadable::default();
        for _ in 0..3 {
            let bad = decode_at::<_, u32>(&tables::PAYMENTS, "7", b"x");
            assert_eq!(noted.skip(bad).unwrap(), None);
        }
        assert_eq!(noted.skip(Ok(5)).unwrap(), Some(5));
        assert_eq!(noted.count(), 1);
        assert!(noted.skip::<u32>(Err(StoreError::Busy)).is_err());
        assert_eq!(noted.list()[0].key, "7");
    }
}
