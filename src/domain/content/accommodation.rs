//! An accommodation's page: its URL slug, amenities, free notes, house rules and photos (each
//! photo a set of re-encoded variants at a few widths, addressed by content hash).

use serde::{Deserialize, Serialize};

use super::amenity::Amenity;
use super::{InvalidContent, invalid, text};

/// Most photos per accommodation.
pub const MAX_PHOTOS: usize = 30;

/// Slugs that would shadow the site's own paths.
const RESERVED: &[&str] = &[
    "admin", "api", "media", "sitio", "reserva", "reservar", "embed",
];

/// An encoding of a photo variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PhotoFormat {
    Jpeg,
    Webp,
}

impl PhotoFormat {
    pub fn extension(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "jpg",
            PhotoFormat::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Webp => "image/webp",
        }
    }
}

/// One stored rendition of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhotoVariant {
    pub width: u32,
    pub height: u32,
    pub format: PhotoFormat,
    /// Media key: the content hash and extension (`3f2a…9c.jpg`), served at `/media/{key}`.
    pub key: String,
    pub bytes: u64,
}

/// A photo of an accommodation: its renditions and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Photo {
    /// Stable id (the hash of the largest JPEG rendition).
    pub id: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    /// Narrowest first; JPEG at every width, WebP where it came out smaller.
    pub variants: Vec<PhotoVariant>,
}

impl Photo {
    /// The JPEG renditions, narrowest first.
    pub fn jpegs(&self) -> impl Iterator<Item = &PhotoVariant> {
        self.variants
            .iter()
            .filter(|v| v.format == PhotoFormat::Jpeg)
    }

    /// The WebP renditions, narrowest first.
    pub fn webps(&self) -> impl Iterator<Item = &PhotoVariant> {
        self.variants
            .iter()
            .filter(|v| v.format == PhotoFormat::Webp)
    }

    /// The JPEG closest to `width` from above (or the largest).
    pub fn jpeg_for(&self, width: u32) -> Option<&PhotoVariant> {
        self.jpegs()
            .find(|v| v.width >= width)
            .or_else(|| self.jpegs().last())
    }
}

/// What the host set on an accommodation's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccommodationContent {
    /// `/alojamientos/{slug}`
    pub slug: String,
    pub amenities: Vec<Amenity>,
    /// Free notes beside the amenities ("la pileta se usa de diciembre a marzo").
    pub notes: String,
    pub house_rules: String,
    /// In the order guests see them; the first is the cover and the shared image.
    pub photos: Vec<Photo>,
}

impl AccommodationContent {
    /// The content of an accommodation whose host has not written any yet.
    pub fn empty(slug: String) -> AccommodationContent {
        AccommodationContent {
            slug,
            amenities: vec![],
            notes: String::new(),
            house_rules: String::new(),
            photos: vec![],
        }
    }

    pub fn has(&self, amenity: Amenity) -> bool {
        self.amenities.contains(&amenity)
    }
}

/// What the admin API accepts for an accommodation's page (photos are uploaded apart).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentInput {
    pub slug: String,
    #[serde(default)]
    pub amenities: Vec<Amenity>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub house_rules: String,
}

/// A URL slug from a name: `Cabaña del Lago` → `cabana-del-lago`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let slug: String = out.trim_end_matches('-').chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() || RESERVED.contains(&slug.as_str()) {
        format!("alojamiento-{slug}")
            .trim_end_matches('-')
            .to_owned()
    } else {
        slug
    }
}

/// Whether `slug` is one the site can serve: 1-60 of `a-z0-9-`, not a reserved word.
pub fn valid_slug(slug: &str) -> bool {
    (1..=60).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !RESERVED.contains(&slug)
}

impl ContentInput {
    /// Checks every field; `photos` stay as they were.
    pub fn validate(self, photos: Vec<Photo>) -> Result<AccommodationContent, InvalidContent> {
        let slug = self.slug.trim().to_owned();
        if !valid_slug(&slug) {
            return Err(invalid(
                "slug",
                "must be 1 to 60 lower-case letters, digits or dashes (not a reserved word)",
            ));
        }
        let mut amenities = self.amenities;
        amenities.sort();
        amenities.dedup();
        Ok(AccommodationContent {
            slug,
            amenities,
            notes: text("notes", &self.notes, 2000, true)?,
            house_rules: text("house_rules", &self.house_rules, 2000, true)?,
            photos,
        })
    }
}

/// Checks a photo's alt text.
pub fn alt_text(alt: &str) -> Result<String, InvalidContent> {
    text("alt", alt, 200, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_and_never_shadow_the_site() {
        assert_eq!(slugify("Cabaña del Lago"), "cabana-del-lago");
        assert_eq!(slugify("  Depto. Centro #2 "), "depto-centro-2");
        assert_eq!(slugify("Admin"), "alojamiento-admin");
        assert_eq!(slugify("¡¡!!"), "alojamiento");
        assert!(valid_slug("cabana-del-lago"));
        for bad in ["", "-a", "a-", "Ab", "a/b", "api", "a b"] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }

    #[test]
    fn input_sorts_amenities_and_refuses_a_bad_slug() {
        let input = ContentInput {
            slug: "lago".into(),
            amenities: vec![Amenity::Pileta, Amenity::Wifi, Amenity::Pileta],
            notes: String::new(),
            house_rules: "No fumar.".into(),
        };
        let c = input.clone().validate(vec![]).unwrap();
        assert_eq!(c.amenities, vec![Amenity::Wifi, Amenity::Pileta]);
        let mut bad = input;
        bad.slug = "media".into();
        assert_eq!(bad.validate(vec![]).unwrap_err().field, "slug");
    }
}
