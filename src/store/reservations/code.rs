//! A new reservation's code, claimed inside the writer's transaction, with the hash of its
//! guest's token made beforehand.

use jiff::civil::Date;
use redb::ReadableTable;

use crate::domain::ids::ReservationCode;
use crate::store::StoreError;
use crate::store::archive::Archive;

/// A new reservation's code and the hash of its guest's token. The first candidate is made
/// before the writer's transaction, so the single writer thread does not spend an HMAC and a
/// SHA-256 on each hold; `token_hash` makes the hash of another code if that one is taken.
pub(super) struct NewCode<F> {
    candidate: (ReservationCode, String),
    token_hash: F,
}

impl<F: Fn(&ReservationCode) -> String> NewCode<F> {
    pub(super) fn new(today: Date, token_hash: F) -> Self {
        let code = ReservationCode::generate(today, rand::random());
        let hash = token_hash(&code);
        NewCode {
            candidate: (code, hash),
            token_hash,
        }
    }

    /// The candidate if its code is free in `table` and the archive, otherwise a fresh free
    /// code and its hash.
    pub(super) fn claim(
        self,
        table: &redb::Table<&str, &[u8]>,
        archive: &Archive,
        today: Date,
    ) -> Result<(ReservationCode, String), StoreError> {
        let free = |code: &ReservationCode| -> Result<bool, StoreError> {
            Ok(table.get(code.as_str())?.is_none() && !archive.holds(code.as_str())?)
        };
        let (mut code, hash) = self.candidate;
        if free(&code)? {
            return Ok((code, hash));
        }
        loop {
            code = ReservationCode::generate(today, rand::random());
            if free(&code)? {
                let hash = (self.token_hash)(&code);
                return Ok((code, hash));
            }
        }
    }
}
