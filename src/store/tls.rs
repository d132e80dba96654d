//! TLS records (the ACME account and the certificate with its key), kept in the store so that
//! they are fsync'd with everything else and carried by snapshots and restores.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tables::{TLS, decode, encode};
use super::{Store, StoreError};

impl Store {
    /// The TLS record `key`, if stored.
    pub fn tls_record<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(TLS)?;
            let found = table.get(key)?;
            found.map(|v| decode(v.value())).transpose()
        })
    }

    /// Stores (or replaces) the TLS record `key`; durable when this returns.
    pub async fn put_tls_record<T: Serialize>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let value = encode(value);
        self.writer
            .write(move |txn| {
                txn.open_table(TLS)?
                    .insert(key.as_str(), value.as_slice())?;
                Ok(())
            })
            .await
    }
}
