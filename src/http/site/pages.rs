//! The property's home (accommodations, and what is free for the dates searched) and each
//! accommodation's page (gallery, description, amenities, rules, calendar and calculator).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use super::calendar::{self, Month, Picking};
use super::views::{Base, Card, Footer, Picture, Search};
use super::{SiteError, format, page, seo};
use crate::app::booking::{Quote, QuoteError};
use crate::app::site::Page;
use crate::domain::accommodation::{AccommodationSpec, Kind};
use crate::domain::content::{Amenity, paragraphs};
use crate::domain::dates::NightRange;
use crate::domain::money::Money;
use crate::domain::stay::StayError;
use crate::http::AppState;

/// Months the calendar shows at once.
const CALENDAR_MONTHS: i64 = 2;

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

    fn month(&self) -> Option<Date> {
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

/// The cards of a list: every accommodation on sale, or the free ones for the dates asked.
pub fn cards(
    state: &AppState,
    q: &StayQuery,
    now: Timestamp,
) -> Result<(Vec<Card>, Option<String>, Option<String>, u32), SiteError> {
    let pages = state.app.site.pages()?;
    let max_guests = pages
        .iter()
        .map(|p| p.accommodation.spec.capacity)
        .max()
        .unwrap_or(1);
    let Some((check_in, check_out)) = q.dates() else {
        return Ok((
            pages.iter().map(|p| card(p, None)).collect(),
            None,
            None,
            max_guests,
        ));
    };
    if NightRange::new(check_in, check_out).is_err() {
        let problem = stay_problem(&StayError::InvalidDates);
        let all = pages.iter().map(|p| card(p, None)).collect();
        return Ok((all, None, Some(problem), max_guests));
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
    Ok((
        cards,
        Some(stay_words(check_in, check_out, guests)),
        None,
        max_guests,
    ))
}

/// `GET /`: the property and its accommodations; with dates, the free ones with totals.
pub async fn home(
    State(state): State<AppState>,
    Query(q): Query<StayQuery>,
    headers: HeaderMap,
) -> Response {
    home_page(&state, &q, &headers).unwrap_or_else(|e| e.respond(&state, &headers))
}

fn home_page(state: &AppState, q: &StayQuery, headers: &HeaderMap) -> Result<Response, SiteError> {
    let now = Timestamp::now();
    let property = state.app.site.property()?;
    let (cards, searched, problem, max_guests) = cards(state, q, now)?;
    let today = state.app.booking.today(now);
    let pages = state.app.site.pages()?;
    let mut base = Base::plain(&property.name, &property.name);
    base.description = property.pitch.clone();
    base.noindex = q.dates().is_some();
    base.canonical = seo::absolute(state, "/");
    base.image = pages
        .iter()
        .find_map(|p| p.content.photos.first())
        .and_then(|p| seo::absolute(state, &Picture::of(p, 1200)?.src));
    base.json_ld = Some(seo::business(state, &property, &pages));
    let view = super::views::Home {
        base,
        footer: Footer::of(&property),
        pitch: property.pitch,
        search: search(q, today, max_guests),
        searched,
        problem,
        cards,
    };
    Ok(page(state, headers, StatusCode::OK, "no-cache", &view))
}

/// The calculator's answer.
pub struct Calculation {
    pub words: String,
    /// (night, price)
    pub nights: Vec<(String, String)>,
    pub total: String,
    pub deposit: String,
    pub deposit_percent: u32,
    /// Where "Reservar" goes when the dates are free.
    pub book_href: Option<String>,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "site/accommodation.html")]
pub struct AccommodationView {
    pub base: Base,
    pub footer: Footer,
    pub name: String,
    pub facts: String,
    pub price_from: String,
    pub pictures: Vec<Picture>,
    pub description: Vec<String>,
    pub amenities: Vec<&'static str>,
    pub notes: Vec<String>,
    pub rules: Vec<String>,
    pub policies: Vec<String>,
    pub months: Vec<Month>,
    pub previous_href: Option<String>,
    pub next_href: String,
    pub path: String,
    pub check_in: String,
    pub check_out: String,
    pub guests: u32,
    pub capacity: u32,
    pub today: String,
    pub calculation: Option<Calculation>,
}

/// Prices the stay in the query, as the calculator shows it.
fn calculate(
    state: &AppState,
    page: &Page,
    q: &StayQuery,
    now: Timestamp,
) -> Result<Option<Calculation>, SiteError> {
    let Some((check_in, check_out)) = q.dates() else {
        return Ok(None);
    };
    let guests = q.guests();
    let deposit_percent = state.app.settings.deposit_share.basis_points() / 100;
    let empty = |problem: String| Calculation {
        words: stay_words(check_in, check_out, guests),
        nights: vec![],
        total: String::new(),
        deposit: String::new(),
        deposit_percent,
        book_href: None,
        problem: Some(problem),
    };
    let quote =
        match state
            .app
            .booking
            .quote(page.accommodation.id, (check_in, check_out), guests, now)
        {
            Ok(q) => q,
            Err(QuoteError::Stay(e)) => return Ok(Some(empty(stay_problem(&e)))),
            Err(QuoteError::AccommodationNotFound) => return Err(SiteError::NotFound),
            Err(QuoteError::Store(e)) => return Err(e.into()),
        };
    Ok(Some(Calculation {
        words: stay_words(check_in, check_out, guests),
        nights: quote
            .price
            .nights
            .iter()
            .map(|n| (format::day(n.date), format::money(n.price)))
            .collect(),
        total: format::money(quote.price.total),
        deposit: format::money(quote.price.deposit),
        deposit_percent,
        book_href: quote
            .available
            .then(|| book_href(&page.content.slug, check_in, check_out, guests)),
        problem: (!quote.available)
            .then(|| "Esas fechas no están libres. Elegí otras en el calendario.".to_owned()),
    }))
}

/// `GET /alojamientos/{slug}`: 404 unless the accommodation is on sale.
pub async fn accommodation(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<StayQuery>,
    headers: HeaderMap,
) -> Response {
    accommodation_page(&state, &slug, &q, &headers).unwrap_or_else(|e| e.respond(&state, &headers))
}

fn accommodation_page(
    state: &AppState,
    slug: &str,
    q: &StayQuery,
    headers: &HeaderMap,
) -> Result<Response, SiteError> {
    let page_data = state.app.site.page(slug)?.ok_or(SiteError::NotFound)?;
    let now = Timestamp::now();
    let today = state.app.booking.today(now);
    let property = state.app.site.property()?;
    let spec = &page_data.accommodation.spec;
    let this_month = calendar::month_start(today);
    let first = q
        .month()
        .filter(|m| *m >= this_month && *m <= this_month + 24.months())
        .unwrap_or(this_month);
    let window = NightRange::new(first, first + CALENDAR_MONTHS.months())
        .map_err(|_| SiteError::NotFound)?;
    let days = state
        .app
        .booking
        .calendar(page_data.accommodation.id, window, now)?
        .ok_or(SiteError::NotFound)?;
    let path = format!("/alojamientos/{}", page_data.content.slug);
    let pick = Picking {
        path: &path,
        check_in: q.check_in(),
        check_out: q.check_out(),
        guests: q.guests().min(spec.capacity),
        first,
    };
    let months = calendar::months(&days, today, &pick);
    let previous_href =
        (first > this_month).then(|| pick.href(pick.check_in, pick.check_out, first - 1.month()));
    let next_href = pick.href(pick.check_in, pick.check_out, first + 1.month());
    let calculation = calculate(state, &page_data, q, now)?;
    let mut base = Base::plain(
        &format!("{} · {}", spec.name, property.name),
        &property.name,
    );
    base.description = spec.description.chars().take(200).collect();
    base.noindex = q.dates().is_some() || q.mes.is_some();
    base.canonical = seo::absolute(state, &path);
    base.image = page_data
        .content
        .photos
        .first()
        .and_then(|p| seo::absolute(state, &Picture::of(p, 1200)?.src));
    base.json_ld = Some(seo::accommodation(state, &property, &page_data));
    let lines = |text: &str| {
        paragraphs(text)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let view = AccommodationView {
        footer: Footer::of(&property),
        name: spec.name.clone(),
        facts: facts(spec),
        price_from: format!("desde {} / noche", format::money(from_price(spec))),
        pictures: page_data
            .content
            .photos
            .iter()
            .filter_map(|p| Picture::of(p, 960))
            .collect(),
        description: lines(&spec.description),
        amenities: Amenity::ALL
            .into_iter()
            .filter(|a| page_data.content.has(*a))
            .map(Amenity::label)
            .collect(),
        notes: lines(&page_data.content.notes),
        rules: lines(&page_data.content.house_rules),
        policies: [&property.cancellation_policy, &property.deposit_policy]
            .into_iter()
            .flat_map(|t| lines(t))
            .collect(),
        months,
        previous_href,
        next_href,
        check_in: q.check_in().map(|d| d.to_string()).unwrap_or_default(),
        check_out: q.check_out().map(|d| d.to_string()).unwrap_or_default(),
        guests: pick.guests,
        capacity: spec.capacity,
        today: today.to_string(),
        path,
        calculation,
        base,
    };
    Ok(page(state, headers, StatusCode::OK, "no-cache", &view))
}

fn facts(spec: &AccommodationSpec) -> String {
    let mut facts = format!(
        "{} · hasta {} personas",
        kind_label(spec.kind),
        spec.capacity
    );
    if spec.min_stay > 1 {
        facts.push_str(&format!(
            " · mínimo {}",
            format::nights(spec.min_stay as usize)
        ));
    }
    facts
}
