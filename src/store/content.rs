//! The site's content: the property's record, each accommodation's page, and the photo
//! renditions (media) they reference. A photo's renditions are written in the same commit as
//! the page that lists them, and removed with the last page that does.

use redb::{ReadTransaction, ReadableTable};

use super::tables::{
    ACCOMMODATION_CONTENT, ACCOMMODATIONS, MEDIA, SITE_CONTENT, decode, decode_all, encode,
};
use super::{Store, StoreError};
use crate::domain::content::{AccommodationContent, PropertyContent};
use crate::domain::ids::AccommodationId;

const PROPERTY_KEY: &str = "property";

/// One encoded rendition to store under its media key.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub key: String,
    pub bytes: Vec<u8>,
}

/// Why a change to an accommodation's page was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("no accommodation with that id")]
    NotFound,
    #[error("another accommodation already uses that slug")]
    SlugTaken,
    #[error("{0}")]
    Refused(String),
}

impl Store {
    /// The property's content as the host saved it (none before the first save).
    pub fn site_content(&self) -> Result<Option<PropertyContent>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(SITE_CONTENT)?;
            table
                .get(PROPERTY_KEY)?
                .map(|v| decode(v.value()))
                .transpose()
        })
    }

    /// Saves the property's content.
    pub async fn set_site_content(&self, content: PropertyContent) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(SITE_CONTENT)?
                    .insert(PROPERTY_KEY, encode(&content).as_slice())?;
                Ok(())
            })
            .await
    }

    /// Every accommodation page the host saved, by accommodation id.
    pub fn accommodation_contents(&self) -> Result<Vec<(u64, AccommodationContent)>, StoreError> {
        self.read(|txn: &ReadTransaction| decode_all(&txn.open_table(ACCOMMODATION_CONTENT)?))
    }

    /// Changes accommodation `id`'s page atomically: `change` gets the saved page (none
    /// before the first save) and returns the new one, which is refused when another
    /// accommodation's saved page has its slug. `added` renditions are stored with it;
    /// renditions no page references any more are removed.
    pub async fn change_accommodation_content<F>(
        &self,
        id: AccommodationId,
        added: Vec<NewMedia>,
        change: F,
    ) -> Result<Result<AccommodationContent, ContentError>, StoreError>
    where
        F: FnOnce(Option<AccommodationContent>) -> Result<AccommodationContent, ContentError>
            + Send
            + 'static,
    {
        self.writer
            .write(move |txn| {
                if txn.open_table(ACCOMMODATIONS)?.get(id.get())?.is_none() {
                    return Ok(Err(ContentError::NotFound));
                }
                let current = {
                    let table = txn.open_table(ACCOMMODATION_CONTENT)?;
                    let found = table.get(id.get())?;
                    found.map(|v| decode(v.value())).transpose()?
                };
                let before = current.clone();
                let new = match change(current) {
                    Ok(new) => new,
                    Err(e) => return Ok(Err(e)),
                };
                let others: Vec<(u64, AccommodationContent)> =
                    decode_all(&txn.open_table(ACCOMMODATION_CONTENT)?)?;
                if others
                    .iter()
                    .any(|(other, c)| *other != id.get() && c.slug == new.slug)
                {
                    return Ok(Err(ContentError::SlugTaken));
                }
                let mut media = txn.open_table(MEDIA)?;
                for m in added {
                    media.insert(m.key.as_str(), m.bytes.as_slice())?;
                }
                txn.open_table(ACCOMMODATION_CONTENT)?
                    .insert(id.get(), encode(&new).as_slice())?;
                let still_used = |key: &str| {
                    others
                        .iter()
                        .filter(|(other, _)| *other != id.get())
                        .map(|(_, c)| c)
                        .chain(std::iter::once(&new))
                        .flat_map(|c| &c.photos)
                        .flat_map(|p| &p.variants)
                        .any(|v| v.key == key)
                };
                for old in before
                    .iter()
                    .flat_map(|c| &c.photos)
                    .flat_map(|p| &p.variants)
                {
                    if !still_used(&old.key) {
                        media.remove(old.key.as_str())?;
                    }
                }
                Ok(Ok(new))
            })
            .await
    }

    /// An encoded rendition by media key.
    pub fn media(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(MEDIA)?;
            Ok(table.get(key)?.map(|v| v.value().to_vec()))
        })
    }

    /// Number of renditions stored and their total size in bytes.
    pub fn media_usage(&self) -> Result<(u64, u64), StoreError> {
        self.read(|txn| {
            let table = txn.open_table(MEDIA)?;
            let mut count = 0;
            let mut bytes = 0;
            for e in table.iter()? {
                count += 1;
                bytes += e?.1.value().len() as u64;
            }
            Ok((count, bytes))
        })
    }
}
