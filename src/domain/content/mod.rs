//! What the host tells guests: the property's content (one source for the guest site and the
//! WhatsApp bot's help answers) and each accommodation's page — its URL slug, amenities from
//! a fixed list, free notes, house rules and photos. Pure: validation, slugs, defaults.

mod accommodation;
mod amenity;
mod property;

pub use accommodation::{
    AccommodationContent, ContentInput, MAX_PHOTOS, Photo, PhotoFormat, PhotoVariant, alt_text,
    slugify, valid_slug,
};
pub use amenity::Amenity;
pub use property::{PropertyContent, PropertyDefaults, PropertyInput, SocialLink};

/// Why content was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidContent {
    pub field: &'static str,
    pub reason: &'static str,
}

pub(crate) const fn invalid(field: &'static str, reason: &'static str) -> InvalidContent {
    InvalidContent { field, reason }
}

/// `text` trimmed, refused when longer than `max` characters or holding control characters
/// other than line breaks and tabs.
pub(crate) fn text(
    field: &'static str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<String, InvalidContent> {
    let value = value.trim().replace("\r\n", "\n");
    if value.chars().count() > max {
        return Err(invalid(field, "is too long"));
    }
    let bad = |c: char| c.is_control() && !(multiline && (c == '\n' || c == '\t'));
    if value.chars().any(bad) {
        return Err(invalid(field, "must not hold control characters"));
    }
    Ok(value)
}

/// An `https://` or `http://` URL without spaces or quotes, or empty.
pub(crate) fn url(field: &'static str, value: &str) -> Result<String, InvalidContent> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 500
        && value.len() > "https://".len()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(field, "must be an http(s) URL"))
    }
}

/// The paragraphs of a plain text (blank lines separate them; single line breaks stay
/// inside a paragraph).
pub fn paragraphs(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_and_plain() {
        assert_eq!(url("u", " https://x.ar/a ").unwrap(), "https://x.ar/a");
        assert_eq!(url("u", "").unwrap(), "");
        for bad in [
            "javascript:alert(1)",
            "https://",
            "https://a b",
            "https://x\"><script>",
        ] {
            assert!(url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts_are_bounded_and_paragraphs_split() {
        assert!(text("t", &"a".repeat(11), 10, false).is_err());
        assert!(text("t", "a\nb", 10, false).is_err());
        assert_eq!(text("t", " a\r\nb ", 10, true).unwrap(), "a\nb");
        assert_eq!(paragraphs("uno\ndos\n\n\ntres "), vec!["uno\ndos", "tres"]);
    }
}
