//! The property's home (accommodations, and what is free for the dates searched) and each
//! accommodation's page (gallery, description, amenities, rules, calendar and calculator).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::{Timestamp, ToSpan};

use super::calendar::{self, Month, Picking};
use super::stay::{
    StayQuery, book_href, cards, from_price, kind_label, search, stay_problem, stay_words,
};
use super::views::{Base, Footer, Picture};
use super::{SiteError, format, page, seo};
use crate::app::booking::QuoteError;
use crate::app::site::Page;
use crate::domain::accommodation::AccommodationSpec;
use crate::domain::content::{Amenity, paragraphs};
use crate::domain::dates::NightRange;
use crate::http::AppState;

/// Months the calendar shows at once.
const CALENDAR_MONTHS: i64 = 2;

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
    let listing = cards(state, q, now)?;
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
        search: search(q, today, listing.max_guests),
        searched: listing.searched,
        problem: listing.problem,
        cards: listing.cards,
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
    base.noindex = q.dates().is_some() || q.month().is_some();
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
