//! The guest site's content, one source for the site and the WhatsApp bot: the property's
//! content (seeded from the configuration until the host saves it), each accommodation's
//! page (slug, amenities, rules) and its photos, processed one at a time on a thread of
//! their own so an upload can never starve the server.

pub mod images;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::config::Settings;
use crate::domain::accommodation::Accommodation;
use crate::domain::content::{
    AccommodationContent, ContentInput, InvalidContent, MAX_PHOTOS, Photo, PropertyContent,
    PropertyDefaults, PropertyInput, alt_text, slugify,
};
use crate::domain::ids::AccommodationId;
use crate::store::{ContentError, Store, StoreError};
use images::ImageError;

/// Photos processed at once (decoding a 12 MP photo takes a core and ~50 MB for a moment).
const PHOTO_PERMITS: usize = 1;
/// Longest an upload waits for its turn before the host is told to retry.
const PHOTO_QUEUE_WAIT: Duration = Duration::from_secs(30);

/// An accommodation with its page.
#[derive(Debug, Clone)]
pub struct Page {
    pub accommodation: Accommodation,
    pub content: AccommodationContent,
}

/// Why a photo could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("no accommodation with that id")]
    NotFound,
    #[error("no photo with that id")]
    NoSuchPhoto,
    #[error("at most {MAX_PHOTOS} photos per accommodation")]
    TooMany,
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Invalid(#[from] InvalidContent),
    #[error("another upload is being processed; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The site's content use cases; cheap to clone.
#[derive(Clone)]
pub struct Site {
    store: Store,
    settings: Arc<Settings>,
    permits: Arc<Semaphore>,
}

impl Site {
    pub fn new(store: Store, settings: Arc<Settings>) -> Site {
        Site {
            store,
            settings,
            permits: Arc::new(Semaphore::new(PHOTO_PERMITS)),
        }
    }

    fn defaults(&self) -> PropertyDefaults {
        let s = &self.settings;
        PropertyDefaults {
            name: s.property_name.clone(),
            address: s.whatsapp.address.clone(),
            contact: s.whatsapp.contact.clone(),
            policies: s.whatsapp.policies.clone(),
            check_in_time: s.whatsapp.check_in_time.clone(),
            check_out_time: s.whatsapp.check_out_time.clone(),
        }
    }

    /// The property's content: what the host saved, or the configuration's values.
    pub fn property(&self) -> Result<PropertyContent, StoreError> {
        Ok(self
            .store
            .site_content()?
            .unwrap_or_else(|| PropertyContent::seeded(&self.defaults())))
    }

    /// Saves the property's content.
    pub async fn set_property(
        &self,
        input: PropertyInput,
    ) -> Result<Result<PropertyContent, InvalidContent>, StoreError> {
        let content = match input.validate() {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        self.store.set_site_content(content.clone()).await?;
        Ok(Ok(content))
    }

    /// Every accommodation with its page; one that has none yet gets an empty page under a
    /// slug made from its name (made unique with its id).
    pub fn all_pages(&self) -> Result<Vec<Page>, StoreError> {
        let mut saved = self.store.accommodation_contents()?;
        let mut taken: Vec<String> = saved.iter().map(|(_, c)| c.slug.clone()).collect();
        let mut pages = Vec::new();
        for accommodation in self.store.accommodations()? {
            let id = accommodation.id.get();
            let content = match saved.iter().position(|(i, _)| *i == id) {
                Some(at) => saved.swap_remove(at).1,
                None => {
                    let mut slug = slugify(&accommodation.spec.name);
                    if taken.contains(&slug) {
                        slug = format!("{slug}-{id}");
                    }
                    taken.push(slug.clone());
                    AccommodationContent::empty(slug)
                }
            };
            pages.push(Page {
                accommodation,
                content,
            });
        }
        Ok(pages)
    }

    /// The accommodations on sale with their pages, as guests see them.
    pub fn pages(&self) -> Result<Vec<Page>, StoreError> {
        let mut pages = self.all_pages()?;
        pages.retain(|p| p.accommodation.spec.active);
        Ok(pages)
    }

    /// The page at `/alojamientos/{slug}`, if its accommodation is on sale.
    pub fn page(&self, slug: &str) -> Result<Option<Page>, StoreError> {
        Ok(self.pages()?.into_iter().find(|p| p.content.slug == slug))
    }

    /// Accommodation `id`'s page, on sale or not (for the host).
    pub fn page_of(&self, id: AccommodationId) -> Result<Option<Page>, StoreError> {
        Ok(self
            .all_pages()?
            .into_iter()
            .find(|p| p.accommodation.id == id))
    }

    /// Changes accommodation `id`'s page with `change`, starting from its current page.
    async fn change(
        &self,
        id: AccommodationId,
        added: Vec<crate::store::NewMedia>,
        change: impl FnOnce(AccommodationContent) -> Result<AccommodationContent, ContentError>
        + Send
        + 'static,
    ) -> Result<Result<AccommodationContent, ContentError>, StoreError> {
        let Some(page) = self.page_of(id)? else {
            return Ok(Err(ContentError::NotFound));
        };
        let unsaved = page.content;
        self.store
            .change_accommodation_content(id, added, move |saved| change(saved.unwrap_or(unsaved)))
            .await
    }

    /// Saves accommodation `id`'s slug, amenities, notes and rules (its photos stay).
    pub async fn set_content(
        &self,
        id: AccommodationId,
        input: ContentInput,
    ) -> Result<Result<AccommodationContent, ContentError>, StoreError> {
        self.change(id, vec![], move |current| {
            input
                .validate(current.photos)
                .map_err(|e| ContentError::Refused(e.to_string()))
        })
        .await
    }

    /// Processes an upload (one at a time, off the async threads) and adds it last.
    pub async fn add_photo(
        &self,
        id: AccommodationId,
        upload: Bytes,
        alt: &str,
    ) -> Result<Photo, PhotoError> {
        let alt = alt_text(alt)?;
        let page = self.page_of(id)?.ok_or(PhotoError::NotFound)?;
        if page.content.photos.len() >= MAX_PHOTOS {
            return Err(PhotoError::TooMany);
        }
        let permit = tokio::time::timeout(PHOTO_QUEUE_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| PhotoError::Busy)?
            .map_err(|_| PhotoError::Busy)?;
        let max_pixels = self.settings.site.photo_max_pixels;
        let started = std::time::Instant::now();
        // A thread of its own rather than the blocking pool, which gives the decoded image's
        // memory back to the system before it ends.
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("photo".into())
            .spawn(move || {
                let _permit = permit;
                let processed = images::process(&upload, max_pixels, alt);
                drop(upload);
                crate::memory::release_freed();
                let _ = done.send(processed);
            })
            .map_err(|_| PhotoError::Busy)?;
        let processed = result
            .await
            .map_err(|_| ImageError::Undecodable("the decoder panicked".into()))?;
        metrics::histogram!("site_photo_processing_seconds")
            .record(started.elapsed().as_secs_f64());
        let processed = match processed {
            Ok(p) => p,
            Err(e) => {
                metrics::counter!("site_photo_uploads_total", "outcome" => "refused").increment(1);
                return Err(e.into());
            }
        };
        let photo = processed.photo.clone();
        let added = photo.clone();
        let saved = self
            .change(id, processed.media, move |mut c| {
                if c.photos.len() >= MAX_PHOTOS {
                    return Err(ContentError::Refused(format!(
                        "at most {MAX_PHOTOS} photos"
                    )));
                }
                c.photos.retain(|p| p.id != added.id);
                c.photos.push(added);
                Ok(c)
            })
            .await?;
        match saved {
            Ok(_) => {
                metrics::counter!("site_photo_uploads_total", "outcome" => "stored").increment(1);
                Ok(photo)
            }
            Err(ContentError::NotFound) => Err(PhotoError::NotFound),
            Err(_) => Err(PhotoError::TooMany),
        }
    }

    /// Changes a photo's alt text and/or moves it to `position` (0 = the cover).
    pub async fn change_photo(
        &self,
        id: AccommodationId,
        photo_id: String,
        alt: Option<String>,
        position: Option<usize>,
    ) -> Result<AccommodationContent, PhotoError> {
        let alt = alt.as_deref().map(alt_text).transpose()?;
        self.edit_photos(id, move |photos| {
            let at = photos.iter().position(|p| p.id == photo_id)?;
            let mut photo = photos.remove(at);
            if let Some(alt) = alt {
                photo.alt = alt;
            }
            let to = position.unwrap_or(at).min(photos.len());
            photos.insert(to, photo);
            Some(())
        })
        .await
    }

    /// Removes a photo (its renditions go with it unless another page uses them).
    pub async fn remove_photo(
        &self,
        id: AccommodationId,
        photo_id: String,
    ) -> Result<AccommodationContent, PhotoError> {
        self.edit_photos(id, move |photos| {
            let at = photos.iter().position(|p| p.id == photo_id)?;
            photos.remove(at);
            Some(())
        })
        .await
    }

    async fn edit_photos(
        &self,
        id: AccommodationId,
        edit: impl FnOnce(&mut Vec<Photo>) -> Option<()> + Send + 'static,
    ) -> Result<AccommodationContent, PhotoError> {
        let changed = self
            .change(id, vec![], move |mut c| {
                edit(&mut c.photos)
                    .map(|()| c)
                    .ok_or_else(|| ContentError::Refused("no such photo".into()))
            })
            .await?;
        match changed {
            Ok(c) => Ok(c),
            Err(ContentError::NotFound) => Err(PhotoError::NotFound),
            Err(_) => Err(PhotoError::NoSuchPhoto),
        }
    }

    /// A stored rendition by its media key.
    pub fn media(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.media(key)
    }
}
