//! The guest's page, `/reserva/{code}`: shown only with the reservation's secret (the guest
//! access token, in the link sent to them or in the cookie that link and the booking leave,
//! compared in constant time); a wrong or missing secret sees the same "not found" as an
//! unknown code. Status, countdown while on hold, the deposit's payment link, cancelling a
//! hold, the stay as `.ics`, and the address and check-in instructions once confirmed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::views::{Base, Footer};
use super::{SiteError, format, forms, page};
use crate::domain::ical::stay::{StayEvent, render};
use crate::domain::ids::ReservationCode;
use crate::domain::reservation::{Reservation, Status};
use crate::http::AppState;

const COOKIE: &str = "alojamientos_reserva";
/// The cookie outlives any stay a guest can book ahead.
const COOKIE_DAYS: u32 = 400;

/// `/reserva/{code}?clave={access_token}`: the secret link.
pub fn link(code: &str, access_token: &str) -> String {
    format!("/reserva/{code}?clave={access_token}")
}

/// The cookie that keeps the secret for this reservation's pages only (so Mercado Pago can
/// send the guest back to `/reserva/{code}` without the secret in its URL).
pub fn cookie(state: &AppState, code: &str, access_token: &str) -> String {
    let secure = state
        .app
        .settings
        .public_base_url
        .as_deref()
        .is_some_and(|b| b.starts_with("https://"));
    format!(
        "{COOKIE}={access_token}; Path=/reserva/{code}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        u64::from(COOKIE_DAYS) * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The reservation `code` if `secret` (or the cookie) is its guest's.
pub(super) fn authorized(
    state: &AppState,
    code: &str,
    secret: Option<&str>,
    headers: &HeaderMap,
) -> Result<(Reservation, String), SiteError> {
    let code = ReservationCode::parse(code).ok_or(SiteError::NotFound)?;
    let candidates = secret
        .map(str::to_owned)
        .into_iter()
        .chain(cookie_secret(headers));
    for secret in candidates {
        if let Some(r) = state.app.booking.for_guest(&code, &secret)? {
            return Ok((r, secret));
        }
    }
    Err(SiteError::NotFound)
}

/// The guest page's query: the secret, and what Mercado Pago adds when it sends the guest
/// back (only `status` is read, to say a payment is being confirmed; the webhook decides).
#[derive(Debug, Default, Deserialize)]
pub struct GuestQuery {
    clave: Option<String>,
    status: Option<String>,
    collection_status: Option<String>,
}

#[derive(Template)]
#[template(path = "site/guest.html")]
pub struct GuestView {
    pub base: Base,
    pub footer: Footer,
    pub code: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub explanation: String,
    pub accommodation: String,
    pub accommodation_href: String,
    pub dates: String,
    pub guests: u32,
    pub name: String,
    pub total: String,
    pub deposit: String,
    pub paid: String,
    /// While on hold: the expiry (RFC 3339, for the script) and as a time.
    pub expires_at: Option<(String, String)>,
    pub payment_url: Option<String>,
    /// Whether a payment link can be asked for (a hold without one, payments configured).
    pub can_ask_link: bool,
    pub can_cancel: bool,
    pub token_cancel: String,
    pub token_pay: String,
    pub secret: String,
    pub secret_link: String,
    pub ics: String,
    /// Once confirmed: where and how to arrive.
    pub arrival: Option<Arrival>,
    pub notice: Option<&'static str>,
}

pub struct Arrival {
    pub address: String,
    pub map_url: String,
    pub times: String,
    pub instructions: Vec<String>,
}

fn status_words(r: &Reservation, returning: bool) -> (&'static str, &'static str, String) {
    match r.status {
        Status::PreReserved if returning => (
            "Confirmando tu pago",
            "hold",
            "Mercado Pago nos está avisando de tu pago. Esta página se actualiza sola.".into(),
        ),
        Status::PreReserved => (
            "Reserva tomada: falta la seña",
            "hold",
            "Las fechas quedan guardadas hasta la hora indicada. Pagá la seña para confirmar."
                .into(),
        ),
        Status::Confirmed => (
            "Reserva confirmada",
            "ok",
            "¡Te esperamos! Abajo tenés la dirección y cómo llegar.".into(),
        ),
        Status::Cancelled => (
            "Reserva cancelada",
            "off",
            "Esta reserva fue cancelada.".into(),
        ),
        Status::Expired => (
            "Reserva vencida",
            "off",
            "No recibimos la seña a tiempo y las fechas se liberaron.".into(),
        ),
        Status::Completed => ("Estadía terminada", "off", "¡Gracias por venir!".into()),
        Status::NoShow => (
            "Sin presentarse",
            "off",
            "La estadía figura sin presentarse.".into(),
        ),
    }
}

pub(super) fn view(
    state: &AppState,
    r: &Reservation,
    secret: &str,
    q: &GuestQuery,
) -> Result<GuestView, SiteError> {
    let now = Timestamp::now();
    let property = state.app.site.property()?;
    let page = state.app.site.page_of(r.accommodation_id)?;
    let returning = returning(q);
    let (status, status_class, explanation) = status_words(r, returning);
    let live_hold = r.status == Status::PreReserved && r.expires_at.is_some_and(|t| t > now);
    let code = r.code.to_string();
    let tz = &state.app.settings.time_zone;
    let mut base = Base::plain(
        &format!("Reserva {code} · {}", property.name),
        &property.name,
    );
    if returning && r.status == Status::PreReserved {
        base.refresh = Some(3);
    }
    let arrival = (r.status == Status::Confirmed).then(|| Arrival {
        address: property.address.clone(),
        map_url: property.map_url.clone(),
        times: format!(
            "Check-in desde las {} · check-out hasta las {}",
            property.check_in_time, property.check_out_time
        ),
        instructions: crate::domain::content::paragraphs(&property.check_in_instructions)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    });
    Ok(GuestView {
        footer: Footer::of(&property),
        status,
        status_class,
        explanation,
        accommodation: page
            .as_ref()
            .map(|p| p.accommodation.spec.name.clone())
            .unwrap_or_default(),
        accommodation_href: page
            .as_ref()
            .map(|p| format!("/alojamientos/{}", p.content.slug))
            .unwrap_or_else(|| "/".into()),
        dates: format!(
            "del {} al {} ({})",
            format::day_with_year(r.range.check_in()),
            format::day_with_year(r.range.check_out()),
            format::nights(r.range.nights() as usize)
        ),
        guests: r.guests,
        name: r.contact.name().to_owned(),
        total: format::money(r.total),
        deposit: format::money(r.deposit),
        paid: format::money(r.payment.paid),
        expires_at: r
            .expires_at
            .filter(|_| live_hold)
            .map(|t| (t.to_string(), format::time(t, tz))),
        payment_url: r.payment.payment_url.clone().filter(|_| live_hold),
        can_ask_link: live_hold
            && r.payment.payment_url.is_none()
            && state.app.payments.is_configured(),
        can_cancel: live_hold,
        token_cancel: forms::token(&format!("cancel:{code}"), now),
        token_pay: forms::token(&format!("pay:{code}"), now),
        secret: secret.to_owned(),
        secret_link: super::seo::absolute(state, &link(&code, secret))
            .unwrap_or_else(|| link(&code, secret)),
        ics: format!("/reserva/{code}/estadia.ics?clave={secret}"),
        arrival,
        notice: None,
        code,
        base,
    })
}

fn show(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
    q: &GuestQuery,
) -> Result<Response, SiteError> {
    let (r, secret) = authorized(state, code, q.clave.as_deref(), headers)?;
    let v = view(state, &r, &secret, q)?;
    let mut response = page(state, headers, StatusCode::OK, "no-store", &v);
    if q.clave.is_some()
        && let Ok(c) = HeaderValue::from_str(&cookie(state, code, &secret))
    {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// `GET /reserva/{code}`
pub async fn page_view(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<GuestQuery>,
    headers: HeaderMap,
) -> Response {
    match show(&state, &headers, &code, &q) {
        Ok(r) => r,
        // Back from Mercado Pago without the secret (another device, a WhatsApp booking):
        // thanks, and nothing about the reservation, whatever the code.
        Err(SiteError::NotFound) if returning(&q) => thanks(&state, &headers),
        Err(e) => e.respond(&state, &headers),
    }
}

fn returning(q: &GuestQuery) -> bool {
    [&q.status, &q.collection_status]
        .into_iter()
        .flatten()
        .any(|s| matches!(s.as_str(), "approved" | "pending" | "in_process"))
}

fn thanks(state: &AppState, headers: &HeaderMap) -> Response {
    super::message(
        state,
        headers,
        StatusCode::OK,
        "¡Gracias por tu pago!",
        "Mercado Pago nos avisa del pago y te confirmamos la reserva por el mismo medio por el \
         que reservaste. Para ver tu reserva abrí el enlace que te enviamos.",
    )
}

/// `GET /reserva/{code}/estadia.ics`: the stay for the guest's calendar.
pub async fn ics(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<GuestQuery>,
    headers: HeaderMap,
) -> Response {
    let made = (|| {
        let (r, _) = authorized(&state, &code, q.clave.as_deref(), &headers)?;
        let property = state.app.site.property()?;
        let name = state
            .app
            .site
            .page_of(r.accommodation_id)?
            .map(|p| p.accommodation.spec.name)
            .unwrap_or_default();
        let confirmed = r.status == Status::Confirmed;
        let uid = format!("{}@{}", r.code, state.app.settings.ical.uid_domain);
        let summary = format!("Estadía en {name} ({})", property.name);
        let description = format!("Reserva {}", r.code);
        let body = render(&StayEvent {
            uid: &uid,
            summary: &summary,
            location: if confirmed { &property.address } else { "" },
            description: &description,
            range: r.range,
            stamp: Timestamp::now(),
        });
        Ok::<_, SiteError>(
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/calendar; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"estadia.ics\""),
                    ),
                ],
                body,
            )
                .into_response(),
        )
    })();
    made.unwrap_or_else(|e| e.respond(&state, &headers))
}
