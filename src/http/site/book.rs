//! Booking from the site: the stay's summary and the contact form (`GET`), then the hold
//! (`POST`) through `app::booking` — the same use case as the API's and WhatsApp's, channel
//! `web` — and on to the guest page with its secret link, where the deposit is paid.

use std::net::IpAddr;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::stay::{StayQuery, stay_problem, stay_words};
use super::views::{Base, Picture};
use super::{SiteError, format, forms, guest, page};
use crate::app::booking::{First, Held, QuoteError};
use crate::app::site::Page;
use crate::domain::booking::{NewReservation, ReserveError};
use crate::domain::contact::{Contact, InvalidContact};
use crate::domain::hold_limits::{HoldRefusal, network_key};
use crate::domain::reservation::{Actor, Channel};
use crate::http::AppState;
use crate::http::extract::ClientIp;
use crate::secret::sha256_hex;
use crate::store::IdempotencyKey;

/// The contact form as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BookForm {
    entrada: String,
    salida: String,
    huespedes: String,
    nombre: String,
    telefono: String,
    email: String,
    token: String,
}

#[derive(Template)]
#[template(path = "site/book.html")]
pub struct BookView {
    pub base: Base,
    pub name: String,
    pub back: String,
    pub picture: Option<Picture>,
    pub words: String,
    pub total: String,
    pub deposit: String,
    pub deposit_percent: u32,
    pub hold_minutes: u64,
    pub check_in: String,
    pub check_out: String,
    pub guests: u32,
    pub action: String,
    pub token: String,
    pub form_name: String,
    pub form_phone: String,
    pub form_email: String,
    /// The stay cannot be booked: why (the form is not shown).
    pub blocked: Option<String>,
    /// The form was refused: why.
    pub error: Option<String>,
    /// Which field is wrong (`nombre`, `telefono`, `email`).
    pub bad_field: &'static str,
}

fn purpose(page: &Page) -> String {
    format!("book:{}", page.accommodation.id)
}

/// The summary and form for the stay in `q`; `blocked` when it cannot be booked.
fn view(
    state: &AppState,
    page_data: &Page,
    q: &StayQuery,
    now: Timestamp,
) -> Result<BookView, SiteError> {
    let spec = &page_data.accommodation.spec;
    let property = state.app.site.property()?;
    let path = format!("/alojamientos/{}", page_data.content.slug);
    let (check_in, check_out) = q.dates().ok_or(SiteError::NotFound)?;
    let guests = q.guests();
    let mut v = BookView {
        base: Base::plain(
            &format!("Reservar {} · {}", spec.name, property.name),
            &property.name,
        ),
        name: spec.name.clone(),
        back: format!("{path}?entrada={check_in}&salida={check_out}&huespedes={guests}#reservar"),
        picture: page_data
            .content
            .photos
            .first()
            .and_then(|p| Picture::of(p, 480)),
        words: stay_words(check_in, check_out, guests),
        total: String::new(),
        deposit: String::new(),
        deposit_percent: state.app.settings.deposit_share.basis_points() / 100,
        hold_minutes: state.app.settings.hold_duration.as_secs().div_ceil(60),
        check_in: check_in.to_string(),
        check_out: check_out.to_string(),
        guests,
        action: format!("{path}/reservar"),
        token: forms::token(&purpose(page_data), now),
        form_name: String::new(),
        form_phone: String::new(),
        form_email: String::new(),
        blocked: None,
        error: None,
        bad_field: "",
    };
    match state.app.booking.quote(
        page_data.accommodation.id,
        (check_in, check_out),
        guests,
        now,
    ) {
        Ok(quote) => {
            v.total = format::money(quote.price.total);
            v.deposit = format::money(quote.price.deposit);
            if !quote.available {
                v.blocked = Some("Esas fechas ya no están libres. Elegí otras.".into());
            }
        }
        Err(QuoteError::Stay(e)) => v.blocked = Some(stay_problem(&e)),
        Err(QuoteError::AccommodationNotFound) => return Err(SiteError::NotFound),
        Err(QuoteError::Store(e)) => return Err(e.into()),
    }
    Ok(v)
}

/// `GET /alojamientos/{slug}/reservar?entrada&salida&huespedes`
pub async fn form(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<StayQuery>,
    headers: HeaderMap,
) -> Response {
    let shown = (|| {
        let page_data = state.app.site.page(&slug)?.ok_or(SiteError::NotFound)?;
        if q.dates().is_none() {
            let to = format!("/alojamientos/{}#reservar", page_data.content.slug);
            return Ok(Redirect::to(&to).into_response());
        }
        let v = view(&state, &page_data, &q, Timestamp::now())?;
        Ok(page(&state, &headers, StatusCode::OK, "no-store", &v))
    })();
    shown.unwrap_or_else(|e: SiteError| e.respond(&state, &headers))
}

fn contact_problem(e: InvalidContact) -> (&'static str, &'static str) {
    match e {
        InvalidContact::Name => ("nombre", "Escribí tu nombre y apellido."),
        InvalidContact::Phone => (
            "telefono",
            "Revisá el teléfono: con código de área, por ejemplo 11 2233-4455.",
        ),
        InvalidContact::Email => ("email", "Revisá el email (o dejalo vacío)."),
    }
}

/// `POST /alojamientos/{slug}/reservar`: takes the hold and sends the guest to their page.
pub async fn submit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(f): Form<BookForm>,
) -> Response {
    take(&state, &slug, (&headers, client), f)
        .await
        .unwrap_or_else(|e| e.respond(&state, &headers))
}

/// What the guest reads when a hold limit (`[holds]`) refuses the hold, and its status.
fn limit_problem(refused: &HoldRefusal) -> (StatusCode, String) {
    match refused {
        HoldRefusal::PerPhone { limit, .. } | HoldRefusal::PerAddress { limit, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Ya tenés el máximo de reservas pendientes de pago ({limit}). Pagá la seña de \
                 alguna o esperá a que venza para tomar otra."
            ),
        ),
        HoldRefusal::TooLong { max } => (
            StatusCode::CONFLICT,
            format!(
                "Por la web se puede reservar hasta {max} noches. Para una estadía más larga, \
                 escribinos."
            ),
        ),
        HoldRefusal::AccommodationShare { .. } => (
            StatusCode::CONFLICT,
            "En este momento hay muchas reservas pendientes de pago en esas fechas. Probá de \
             nuevo en un rato."
                .to_owned(),
        ),
    }
}

async fn take(
    state: &AppState,
    slug: &str,
    (headers, client): (&HeaderMap, IpAddr),
    f: BookForm,
) -> Result<Response, SiteError> {
    let now = Timestamp::now();
    if !forms::same_origin(headers, state.app.settings.public_base_url.as_deref()) {
        return Err(SiteError::Forbidden);
    }
    let page_data = state.app.site.page(slug)?.ok_or(SiteError::NotFound)?;
    let q = StayQuery::from_parts(&f.entrada, &f.salida, &f.huespedes);
    let mut v = view(state, &page_data, &q, now)?;
    v.form_name = f.nombre.clone();
    v.form_phone = f.telefono.clone();
    v.form_email = f.email.clone();
    let refuse = |mut v: BookView, status: StatusCode, field: &'static str, error: &str| {
        v.error = Some(error.to_owned());
        v.bad_field = field;
        Ok(page(state, headers, status, "no-store", &v))
    };
    if !forms::token_valid(&f.token, &purpose(&page_data), now) {
        return refuse(
            v,
            StatusCode::FORBIDDEN,
            "",
            "El formulario venció. Revisá los datos y envialo de nuevo.",
        );
    }
    let contact = match Contact::new(
        &f.nombre,
        &f.telefono,
        Some(f.email.as_str()),
        &state.app.settings.default_country_code,
    ) {
        Ok(c) => c,
        Err(e) => {
            let (field, text) = contact_problem(e);
            return refuse(v, StatusCode::UNPROCESSABLE_ENTITY, field, text);
        }
    };
    let (check_in, check_out) = q.dates().ok_or(SiteError::NotFound)?;
    let req = NewReservation {
        accommodation_id: page_data.accommodation.id,
        check_in,
        check_out,
        guests: q.guests(),
        contact,
        channel: Channel::Web,
        confirmed: false,
        actor: Actor::Guest,
        note: "created on the guest site".into(),
        client_address: Some(client),
    };
    let key = IdempotencyKey {
        scope: "site",
        key: format!("{}:{}", network_key(client), f.token),
        request_sha256: sha256_hex(&format!(
            "{}|{}|{}|{}|{}|{}|{}",
            page_data.accommodation.id,
            f.entrada,
            f.salida,
            f.huespedes,
            f.nombre,
            f.telefono,
            f.email
        )),
    };
    let outcome = match state.app.booking.hold(req, Some(key)).await? {
        Held::Fresh(outcome) => outcome,
        Held::Replayed(r) => match r.first {
            First::Outcome(outcome) => outcome,
            First::Legacy(_) => Err(ReserveError::DateOverlap),
        },
        Held::KeyReused => {
            return refuse(
                v,
                StatusCode::CONFLICT,
                "",
                "Este formulario ya se envió con otros datos. Revisalos y envialo de nuevo.",
            );
        }
    };
    match outcome {
        Ok(created) => {
            let code = created.reservation.code.to_string();
            let to = guest::link(&code, &created.access_token);
            let mut response = Redirect::to(&to).into_response();
            if let Ok(cookie) =
                HeaderValue::from_str(&guest::cookie(state, &code, &created.access_token))
            {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(ReserveError::DateOverlap) => refuse(
            v,
            StatusCode::CONFLICT,
            "",
            "Esas fechas se acaban de ocupar. Elegí otras.",
        ),
        Err(ReserveError::Stay(e)) => {
            refuse(v, StatusCode::UNPROCESSABLE_ENTITY, "", &stay_problem(&e))
        }
        Err(ReserveError::AccommodationNotFound) => Err(SiteError::NotFound),
        Err(ReserveError::Limited(refused)) => {
            let (status, text) = limit_problem(&refused);
            refuse(v, status, "", &text)
        }
    }
}
