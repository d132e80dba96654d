//! One error type for everything the store can fail at, wrapping redb's per-operation errors.

use std::path::PathBuf;

/// A failure of the store itself (not of a business rule).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {0} is already in use by another alojamientos process; stop it first \
         (systemctl stop alojamientos) or point --config / ALOJAMIENTOS_SERVER__DATA_DIR elsewhere"
    )]
    AlreadyOpen(PathBuf),
    #[error(
        "the store has schema version {found}, newer than this binary supports ({supported}); \
         run the newer alojamientos binary again, or roll back the data too: with the server \
         stopped, `alojamientos restore /opt/alojamientos/pre-upgrade/<snapshot>.redb` (the \
         backup systemd/install.sh took before the upgrade)"
    )]
    SchemaTooNew { found: u64, supported: u64 },
    #[error("cannot prepare data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("opening the database: {0}")]
    Database(#[from] redb::DatabaseError),
    #[error("starting a transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    #[error("opening a table: {0}")]
    Table(#[from] redb::TableError),
    #[error("storage: {0}")]
    Storage(#[from] redb::StorageError),
    #[error("committing: {0}")]
    Commit(#[from] redb::CommitError),
    #[error("setting durability: {0}")]
    Durability(#[from] redb::SetDurabilityError),
    #[error("the commit failed: {0}")]
    CommitFailed(String),
    #[error("a stored record could not be decoded: {0}")]
    Corrupt(String),
    /// One record that does not decode (the rest of the store is fine).
    #[error("{0}")]
    Unreadable(Box<super::unreadable::UnreadableRecord>),
    #[error("the write queue is full")]
    Busy,
    #[error(
        "the disk holding the store is full (or below server.min_free_mb): writes are refused \
         until space is freed"
    )]
    StorageFull,
    #[error("waited too long for the store's writer")]
    LockTimeout,
    #[error("another write in the same commit failed, so this one was rolled back")]
    BatchAborted,
    #[error("a store operation panicked")]
    Panicked,
    #[error("the store is shut down")]
    Closed,
}

impl StoreError {
    /// Whether the store is briefly not taking requests (shutting down, or reopening after an
    /// I/O failure): the request may be retried.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Closed
                | StoreError::Storage(
                    redb::StorageError::DatabaseClosed | redb::StorageError::PreviousIo
                )
        )
    }
}
