//! What the home page, the embed, the accommodation page and the booking form share: the
//! stay asked for in the query string, its words, the refusals in Spanish, and the
//! accommodation cards of a list (all on sale, or the free ones for the dates asked).

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

use super::views::{Card, Picture, Search};
use super::{SiteError, format};
use crate::app::booking::Quote;
use crate::app::site::Page;
use crate::domain::accommodation::{AccommodationSpec, Kind};
use crate::domain::dates::NightRange;
use crate::domain::money::Money;
use crate::domain::stay::StayError;
use crate::http::AppState;

/// The stay in a page's query string (`entrada`, `salida`, `huespedes`, `mes`), read
/// leniently: what does not parse is left out.
#[derive(Debug, Default, Deserialize)]
pub struct StayQuery {
    entrada: Option<String>,
    salida: Option<String>,
    huespedes: Option<String>,
    mes: Option<String>,
}

impl StayQuery {
    /// The stay of a form's fields.
    pub fn from_parts(check_in: &str, check_out: &str, guests: &str) -> StayQuery {
        StayQuery {
            entrada: Some(check_in.to_owned()),
            salida: Some(check_out.to_owned()),
            huespedes: Some(guests.to_owned()),
            mes: None,
        }
    }

    pub fn check_in(&self) -> Option<Date> {
        self.entrada.as_deref().and_then(|d| d.parse().ok())
    }

    pub fn check_out(&self) -> Option<Date> {
        self.salida.as_deref().and_then(|d| d.parse().ok())
    }

    /// Guests asked for, at least 1.
    pub fn guests(&self) -> u32 {
        self.huespedes
            .as_deref()
            .and_then(|g| g.parse().ok())
            .filter(|g| (1..=100).contains(g))
            .unwrap_or(2)
    }

    /// Both dates, when given.
    pub fn dates(&self) -> Option<(Date, Date)> {
        Some((self.check_in()?, self.check_out()?))
    }

    /// The first month the calendar shows (`mes=2027-01`).
    pub fn month(&self) -> Option<Date> {
        let (y, m) = self.mes.as_deref()?.split_once('-')?;
        Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
    }
}

/// Why a stay cannot be booked, in words for the guest.
pub fn stay_problem(e: &StayError) -> String {
    match e {
        StayError::InvalidDates => "La salida tiene que ser después de la llegada.".into(),
        StayError::TooLong { max } => format!("La estadía puede ser de hasta {max} noches."),
        StayError::PastDates => "La llegada no puede ser en el pasado.".into(),
        StayError::InvalidGuests => "Indicá cuántas personas son.".into(),
        StayError::CapacityExceeded { capacity } => {
            format!("Este alojamiento es para hasta {capacity} personas.")
        }
        StayError::MinStay { required } => {
            format!("Para esas fechas la estadía mínima es de {required} noches.")
        }
    }
}

pub fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Cabin => "Cabaña",
        Kind::Apartment => "Departamento",
        Kind::House => "Casa",
        Kind::Room => "Habitación",
    }
}

/// The lowest nightly price a guest can meet (base or season, weekday or weekend).
pub fn from_price(spec: &AccommodationSpec) -> Money {
    std::iter::once(spec.base_price)
        .chain(spec.seasons.iter().map(|s| s.nightly_price))
        .flat_map(|p| [p, p.times(spec.weekend_multiplier)])
        .min()
        .unwrap_or(spec.base_price)
}

/// `del vie 3 ene al lun 6 ene para 2 personas`
pub fn stay_words(check_in: Date, check_out: Date, guests: u32) -> String {
    let who = if guests == 1 {
        "1 persona".to_owned()
    } else {
        format!("{guests} personas")
    };
    format!(
        "del {} al {} para {who}",
        format::day(check_in),
        format::day(check_out)
    )
}

/// `/alojamientos/{slug}/reservar?entrada=…&salida=…&huespedes=…`
pub fn book_href(slug: &str, check_in: Date, check_out: Date, guests: u32) -> String {
    format!(
        "/alojamientos/{slug}/reservar?entrada={check_in}&salida={check_out}&huespedes={guests}"
    )
}

fn card(page: &Page, offer: Option<&Quote>) -> Card {
    let spec = &page.accommodation.spec;
    let href = format!("/alojamientos/{}", page.content.slug);
    let (price, book) = match offer {
        Some(q) => (
            format!(
                "{} en total ({})",
                format::money(q.price.total),
                format::nights(q.price.nights.len())
            ),
            Some(book_href(
                &page.content.slug,
                q.range.check_in(),
                q.range.check_out(),
                q.guests,
            )),
        ),
        None => (
            format!("desde {} / noche", format::money(from_price(spec))),
            None,
        ),
    };
    Card {
        name: spec.name.clone(),
        href,
        kind: kind_label(spec.kind),
        capacity: spec.capacity,
        picture: page
            .content
            .photos
            .first()
            .and_then(|p| Picture::of(p, 480)),
        price,
        book_href: book,
    }
}

/// The search form, filled with the query.
pub fn search(q: &StayQuery, today: Date, max_guests: u32) -> Search {
    Search {
        check_in: q.check_in().map(|d| d.to_string()).unwrap_or_default(),
        check_out: q.check_out().map(|d| d.to_string()).unwrap_or_default(),
        guests: q.guests().min(max_guests.max(1)),
        max_guests: max_guests.max(1),
        today: today.to_string(),
    }
}

/// A list of accommodations as the home page and the embed show it.
pub struct Listing {
    pub cards: Vec<Card>,
    /// What was searched, in words, when dates were given.
    pub searched: Option<String>,
    /// Why the search could not run.
    pub problem: Option<String>,
    /// The largest capacity, for the guests selector.
    pub max_guests: u32,
}

/// The cards of a list: every accommodation on sale, or the free ones for the dates asked.
pub fn cards(state: &AppState, q: &StayQuery, now: Timestamp) -> Result<Listing, SiteError> {
    let pages = state.app.site.pages()?;
    let max_guests = pages
        .iter()
        .map(|p| p.accommodation.spec.capacity)
        .max()
        .unwrap_or(1);
    let Some((check_in, check_out)) = q.dates() else {
        return Ok(Listing {
            cards: pages.iter().map(|p| card(p, None)).collect(),
            searched: None,
            problem: None,
            max_guests,
        });
    };
    if NightRange::new(check_in, check_out).is_err() {
        let problem = stay_problem(&StayError::InvalidDates);
        let all = pages.iter().map(|p| card(p, None)).collect();
        return Ok(Listing {
            cards: all,
            searched: None,
            problem: Some(problem),
            max_guests,
        });
    }
    let guests = q.guests();
    let offers = state
        .app
        .booking
        .offers((check_in, check_out), guests, now)?;
    let cards = offers
        .iter()
        .filter_map(|o| {
            let page = pages
                .iter()
                .find(|p| p.accommodation.id == o.accommodation.id)?;
            Some(card(page, Some(o)))
        })
        .collect();
    Ok(Listing {
        cards,
        searched: Some(stay_words(check_in, check_out, guests)),
        problem: None,
        max_guests,
    })
}
