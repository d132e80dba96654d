//! What each template shows, as plain values already formatted for es-AR: the templates in
//! `templates/site/` only lay them out (and escape them).

use askama::Template;

use super::assets;
use crate::domain::content::{Photo, PropertyContent, SocialLink};

/// What every page's `<head>` and frame need.
pub struct Base {
    pub title: String,
    pub description: String,
    pub property: String,
    /// Absolute URL of this page (from `server.public_base_url`), for `rel=canonical` and
    /// `og:url`; none without a configured base URL.
    pub canonical: Option<String>,
    /// Absolute URL of the image shown when the link is shared.
    pub image: Option<String>,
    /// schema.org JSON-LD, already safe to place inside `<script>`.
    pub json_ld: Option<String>,
    pub css: String,
    pub js: String,
    /// Pages that must not be indexed (guest pages, forms).
    pub noindex: bool,
    /// Reload after this many seconds (a guest page waiting for a payment to arrive).
    pub refresh: Option<u32>,
}

impl Base {
    pub fn plain(title: &str, property: &str) -> Base {
        Base {
            title: title.to_owned(),
            description: String::new(),
            property: property.to_owned(),
            canonical: None,
            image: None,
            json_ld: None,
            css: assets::css_url(),
            js: assets::js_url(),
            noindex: true,
            refresh: None,
        }
    }
}

/// A photo as `<picture>`: WebP renditions where smaller, JPEG at every width.
pub struct Picture {
    pub alt: String,
    pub src: String,
    pub jpeg_srcset: String,
    pub webp_srcset: String,
    pub width: u32,
    pub height: u32,
}

fn srcset<'a>(variants: impl Iterator<Item = &'a crate::domain::content::PhotoVariant>) -> String {
    variants
        .map(|v| format!("/media/{} {}w", v.key, v.width))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Picture {
    /// The photo at about `width` CSS pixels.
    pub fn of(photo: &Photo, width: u32) -> Option<Picture> {
        let fallback = photo.jpeg_for(width)?;
        Some(Picture {
            alt: photo.alt.clone(),
            src: format!("/media/{}", fallback.key),
            jpeg_srcset: srcset(photo.jpegs()),
            webp_srcset: srcset(photo.webps()),
            width: fallback.width,
            height: fallback.height,
        })
    }
}

/// The property's footer: address, map, contact and social links.
pub struct Footer {
    pub name: String,
    pub address: String,
    pub map_url: String,
    pub contact: String,
    pub check_times: String,
    pub social: Vec<SocialLink>,
}

impl Footer {
    pub fn of(p: &PropertyContent) -> Footer {
        let check_times = match (p.check_in_time.is_empty(), p.check_out_time.is_empty()) {
            (false, false) => format!(
                "Check-in desde las {} · check-out hasta las {}",
                p.check_in_time, p.check_out_time
            ),
            _ => String::new(),
        };
        Footer {
            name: p.name.clone(),
            address: p.address.clone(),
            map_url: p.map_url.clone(),
            contact: p.contact_text(),
            check_times,
            social: p.social_links.clone(),
        }
    }
}

/// An accommodation in a list: photo, capacity, "desde $…/noche" or the stay's total.
pub struct Card {
    pub name: String,
    pub href: String,
    pub kind: &'static str,
    pub capacity: u32,
    pub picture: Option<Picture>,
    /// `desde $ 45.000,00 / noche`, or the total for the dates searched.
    pub price: String,
    /// Where "Reservar" goes for the dates searched.
    pub book_href: Option<String>,
}

/// The search form's values.
pub struct Search {
    pub check_in: String,
    pub check_out: String,
    pub guests: u32,
    pub max_guests: u32,
    pub today: String,
}

#[derive(Template)]
#[template(path = "site/home.html")]
pub struct Home {
    pub base: Base,
    pub footer: Footer,
    pub pitch: String,
    pub search: Search,
    /// What was searched, in words, when dates were given.
    pub searched: Option<String>,
    /// Why the search could not run.
    pub problem: Option<String>,
    pub cards: Vec<Card>,
}

/// A message page (not found, expired form, trouble).
#[derive(Template)]
#[template(path = "site/message.html")]
pub struct Message {
    pub base: Base,
    pub title: &'static str,
    pub text: &'static str,
}

/// The embed for the host's own website: search and a "Reservar" per accommodation, every
/// link opening the site in the top window.
#[derive(Template)]
#[template(path = "site/embed.html")]
pub struct Embed {
    pub base: Base,
    pub search: Search,
    pub cards: Vec<Card>,
}
