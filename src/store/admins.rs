//! Admin users (argon2 password hashes) and their sessions (stored as token hashes).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use redb::ReadableTableMetadata;
use serde::{Deserialize, Serialize};

use super::tables::{ADMINS, SESSIONS, encode};
use super::unreadable::{decode_at, retain_json};
use super::{Store, StoreError};
use crate::secret::sha256_hex;

/// A host account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminUser {
    pub email: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// A logged-in admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminSession {
    pub email: String,
    pub expires_at: Timestamp,
}

impl Store {
    /// Creates or replaces the admin `email`.
    pub async fn put_admin(&self, user: AdminUser) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(ADMINS)?
                    .insert(user.email.as_str(), encode(&user).as_slice())?;
                Ok(())
            })
            .await
    }

    /// Creates the admin only if there is no admin at all; returns whether it did.
    pub async fn create_first_admin(&self, user: AdminUser) -> Result<bool, StoreError> {
        self.writer
            .write(move |txn| {
                let mut table = txn.open_table(ADMINS)?;
                if !table.is_empty()? {
                    return Ok(false);
                }
                table.insert(user.email.as_str(), encode(&user).as_slice())?;
                Ok(true)
            })
            .await
    }

    /// Whether any admin exists.
    pub fn has_admins(&self) -> Result<bool, StoreError> {
        self.read(|txn| Ok(!txn.open_table(ADMINS)?.is_empty()?))
    }

    pub fn admin(&self, email: &str) -> Result<Option<AdminUser>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(ADMINS)?;
            table
                .get(email)?
                .map(|v| decode_at(&ADMINS, email, v.value()))
                .transpose()
        })
    }

    /// Starts a session for `email` that lasts `ttl`, keyed by the hash of `token`.
    pub async fn create_session(
        &self,
        token: &str,
        email: String,
        ttl: Duration,
    ) -> Result<AdminSession, StoreError> {
        let key = sha256_hex(token);
        self.writer
            .write(move |txn| {
                let session = AdminSession {
                    email,
                    expires_at: Timestamp::now()
                        + SignedDuration::try_from(ttl).unwrap_or_default(),
                };
                txn.open_table(SESSIONS)?
                    .insert(key.as_str(), encode(&session).as_slice())?;
                Ok(session)
            })
            .await
    }

    /// The live session for `token`, if any (one whose record does not decode is none: noted,
    /// and the admin logs in again).
    pub fn session(&self, token: &str) -> Result<Option<AdminSession>, StoreError> {
        let key = sha256_hex(token);
        let found = self.read(|txn| {
            let table = txn.open_table(SESSIONS)?;
            let found = table
                .get(key.as_str())?
                .map(|v| decode_at::<_, AdminSession>(&SESSIONS, key.as_str(), v.value()));
            Ok(self.unreadable.skip(found.transpose())?.flatten())
        })?;
        Ok(found.filter(|s| s.expires_at > Timestamp::now()))
    }

    /// Ends the session for `token`.
    pub async fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        let key = sha256_hex(token);
        self.writer
            .write(move |txn| Ok(txn.open_table(SESSIONS)?.remove(key.as_str())?.is_some()))
            .await
    }

    /// Removes sessions that have expired; returns how many.
    pub async fn purge_sessions(&self) -> Result<usize, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let now = Timestamp::now();
                retain_json(txn, &SESSIONS, &unreadable, |s: &AdminSession| {
                    s.expires_at > now
                })
            })
            .await
    }
}
