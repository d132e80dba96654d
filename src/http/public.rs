//! Public endpoints: browse, quote, check availability, take a hold, see or cancel it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{admin_email, bearer};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiPath, ApiQuery, parse_json};
use super::views::{CreatedView, ReservationView};
use crate::domain::accommodation::Accommodation;
use crate::domain::availability::{self, DayAvailability};
use crate::domain::contact::{Contact, InvalidContact};
use crate::domain::dates::{self, NightRange, local_today};
use crate::domain::money::Money;
use crate::domain::pricing::{NightPrice, quote};
use crate::domain::reservation::{Actor, Channel, Reservation, Status, is_reservation_code};
use crate::domain::stay::{StayLimits, validate_stay};
use crate::secret::{matches_sha256, sha256_hex_bytes};
use crate::store::{
    ChangeError, ChangeRequest, Created, IdempotencyKey, NewReservation, Replay, ReserveError,
    StoreError, StoredResponse,
};

/// Longest window `availability` answers for.
const MAX_WINDOW_NIGHTS: u32 = 366;

pub fn parse_date(field: &str, text: &str) -> Result<Date, ApiError> {
    dates::parse_date(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_dates",
            format!("{field} must be a date like 2025-01-03, between years 2000 and 2199"),
        )
    })
}

fn accommodation_not_found() -> ApiError {
    ApiError::not_found(
        "accommodation_not_found",
        "no active accommodation with that id",
    )
}

/// Active accommodations.
#[utoipa::path(get, path = "/api/v1/accommodations", tag = "public",
    responses((status = 200, body = [Accommodation])))]
pub async fn list_accommodations(
    State(state): State<AppState>,
) -> Result<Json<Vec<Accommodation>>, ApiError> {
    let mut all = state.store.accommodations()?;
    all.retain(|a| a.spec.active);
    Ok(Json(all))
}

#[derive(Deserialize, IntoParams)]
pub struct QuoteQuery {
    /// First night, `yyyy-mm-dd`.
    check_in: String,
    /// Departure day (exclusive), `yyyy-mm-dd`.
    check_out: String,
    guests: Option<i64>,
}

/// A priced stay and whether its dates are free.
#[derive(Serialize, ToSchema)]
pub struct QuoteView {
    accommodation_id: u64,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "dates::serialize_date")]
    check_in: Date,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "dates::serialize_date")]
    check_out: Date,
    nights: u32,
    guests: u32,
    available: bool,
    nightly: Vec<NightPrice>,
    #[schema(value_type = String, example = "48000.00")]
    total_price: Money,
    #[schema(value_type = String, example = "14400.00")]
    deposit_amount: Money,
    currency: String,
}

fn guests_from(value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .ok()
        .filter(|g| *g >= 1)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_guests",
                "guests must be at least 1",
            )
        })
}

/// Price and availability of a stay.
#[utoipa::path(get, path = "/api/v1/accommodations/{id}/quote", tag = "public",
    params(("id" = u64, Path), QuoteQuery),
    responses((status = 200, body = QuoteView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quote_stay(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let check_in = parse_date("check_in", &q.check_in)?;
    let check_out = parse_date("check_out", &q.check_out)?;
    let guests = guests_from(q.guests.unwrap_or(1))?;
    let window = NightRange::new(check_in, check_out)
        .map_err(|_| ApiError::from(crate::domain::stay::StayError::InvalidDates))?;
    let (acc, taken) = state
        .store
        .accommodation_with_occupancy(id, window)?
        .filter(|(a, _)| a.spec.active)
        .ok_or_else(accommodation_not_found)?;
    let now = Timestamp::now();
    let limits = StayLimits {
        today: local_today(now, &state.settings.time_zone),
        max_nights: state.settings.max_nights,
    };
    let range = validate_stay(&acc.spec, check_in, check_out, guests, limits)?;
    let priced = quote(&acc.spec, &range, state.settings.deposit_share);
    Ok(Json(QuoteView {
        accommodation_id: id,
        check_in,
        check_out,
        nights: range.nights(),
        guests,
        available: availability::is_free(&range, &taken, now),
        nightly: priced.nights,
        total_price: priced.total,
        deposit_amount: priced.deposit,
        currency: state.settings.currency.clone(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct WindowQuery {
    /// First night, `yyyy-mm-dd`.
    from: String,
    /// Day after the last night, `yyyy-mm-dd`.
    to: String,
}

/// Per-night availability of one accommodation.
#[derive(Serialize, ToSchema)]
pub struct AvailabilityView {
    accommodation_id: u64,
    #[schema(value_type = String, format = Date)]
    from: Date,
    #[schema(value_type = String, format = Date)]
    to: Date,
    days: Vec<DayAvailability>,
}

/// Which nights are free in `[from, to)` (at most 366 nights).
#[utoipa::path(get, path = "/api/v1/accommodations/{id}/availability", tag = "public",
    params(("id" = u64, Path), WindowQuery),
    responses((status = 200, body = AvailabilityView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn availability(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let from = parse_date("from", &q.from)?;
    let to = parse_date("to", &q.to)?;
    let window = NightRange::new(from, to)
        .ok()
        .filter(|w| w.nights() <= MAX_WINDOW_NIGHTS)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_dates",
                "to must be after from, at most 366 days later",
            )
        })?;
    let (_, taken) = state
        .store
        .accommodation_with_occupancy(id, window)?
        .filter(|(a, _)| a.spec.active)
        .ok_or_else(accommodation_not_found)?;
    Ok(Json(AvailabilityView {
        accommodation_id: id,
        from,
        to,
        days: availability::daily(&window, &taken, Timestamp::now()),
    }))
}

/// A request for a pre-reservation (hold).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    pub accommodation_id: u64,
    /// `yyyy-mm-dd`
    pub check_in: String,
    /// `yyyy-mm-dd`, exclusive
    pub check_out: String,
    pub guests: i64,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: Option<String>,
    pub channel: Option<Channel>,
    /// Admin only: create the booking confirmed (e.g. taken by phone).
    #[serde(default)]
    pub confirmed: bool,
    /// Admin only: a note for the audit trail.
    pub note: Option<String>,
}

fn contact_error(e: InvalidContact) -> ApiError {
    ApiError::validation(e.to_string())
}

impl ReserveBody {
    /// Parses into a store request; `actor` decides whether admin-only fields are allowed.
    pub fn into_request(self, state: &AppState, actor: Actor) -> Result<NewReservation, ApiError> {
        let is_admin = matches!(actor, Actor::Admin { .. });
        if !is_admin && (self.confirmed || self.note.is_some()) {
            return Err(ApiError::validation(
                "confirmed and note are for admins only",
            ));
        }
        let contact = Contact::new(
            &self.contact_name,
            &self.contact_phone,
            self.contact_email.as_deref(),
            &state.settings.default_country_code,
        )
        .map_err(contact_error)?;
        Ok(NewReservation {
            accommodation_id: self.accommodation_id,
            check_in: parse_date("check_in", &self.check_in)?,
            check_out: parse_date("check_out", &self.check_out)?,
            guests: guests_from(self.guests)?,
            contact,
            channel: self.channel.unwrap_or(if is_admin {
                Channel::Admin
            } else {
                Channel::Web
            }),
            confirmed: self.confirmed,
            actor,
            note: self.note.unwrap_or_else(|| "created".into()),
        })
    }
}

impl From<ReserveError> for ApiError {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::AccommodationNotFound => accommodation_not_found(),
            ReserveError::Stay(s) => s.into(),
            ReserveError::DateOverlap => {
                ApiError::conflict("date_overlap", "the dates overlap another stay")
            }
        }
    }
}

fn idempotency_key(
    headers: &HeaderMap,
    body: &[u8],
    scope: &'static str,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::validation("Idempotency-Key must be 1 to 200 visible ASCII characters")
        })?;
    Ok(Some(IdempotencyKey {
        scope,
        key: key.to_owned(),
        request_sha256: sha256_hex_bytes(body),
    }))
}

fn render(outcome: &Result<Created, ReserveError>) -> StoredResponse {
    match outcome {
        Ok(created) => StoredResponse {
            status: StatusCode::CREATED.as_u16(),
            body: serde_json::to_string(&CreatedView {
                reservation: ReservationView::of(&created.reservation),
                access_token: created.access_token.clone(),
            })
            .expect("views serialize"),
        },
        Err(e) => {
            let api = ApiError::from(e.clone());
            StoredResponse {
                status: api.status.as_u16(),
                body: api.body_json(),
            }
        }
    }
}

fn stored(response: StoredResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        response.body,
    )
        .into_response()
}

/// A replayed creation shows the hold's payment link, made after the response was stored
/// (the stored body is replayed untouched otherwise).
fn with_current_link(state: &AppState, mut response: StoredResponse) -> StoredResponse {
    if response.status != StatusCode::CREATED.as_u16() || !state.payments.is_configured() {
        return response;
    }
    let Ok(mut body) = serde_json::from_str::<serde_json::Value>(&response.body) else {
        return response;
    };
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    let link = state
        .store
        .reservation(&code)
        .ok()
        .flatten()
        .and_then(|r| ReservationView::of(&r).payment_url);
    if body["payment_url"].is_null()
        && let Some(url) = link
    {
        body["payment_url"] = serde_json::Value::String(url);
        response.body = body.to_string();
    }
    response
}

/// Takes a reservation through the atomic path shared by the public and admin APIs.
pub async fn reserve_with(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
    actor: Actor,
    scope: &'static str,
) -> Result<Response, ApiError> {
    let key = idempotency_key(headers, &body, scope)?;
    let req = parse_json::<ReserveBody>(&body)?.into_request(state, actor)?;
    let channel = req.channel.as_str();
    let policy = state.reserve_policy();
    match state.store.reserve(req, policy, key, render).await {
        Ok(Replay::Fresh(mut outcome)) => {
            match &outcome {
                Ok(created) => {
                    metrics::counter!("reservations_created_total", "channel" => channel)
                        .increment(1);
                    if created.reservation.status == Status::Confirmed {
                        metrics::counter!("reservations_confirmed_total", "channel" => channel)
                            .increment(1);
                    }
                    tracing::info!(code = %created.reservation.code, status = %created.reservation.status, "reservation created");
                }
                Err(ReserveError::DateOverlap) => {
                    metrics::counter!("reservations_date_overlap_total", "channel" => channel)
                        .increment(1);
                }
                Err(_) => {}
            }
            if let Ok(created) = &mut outcome
                && let Some(linked) = state.payments.link_for_new_hold(&created.reservation).await
            {
                created.reservation = linked;
            }
            Ok(stored(render(&outcome)))
        }
        Ok(Replay::Stored(response)) => Ok(stored(with_current_link(state, response))),
        Ok(Replay::KeyReused) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
        )),
        Err(e) => {
            if matches!(
                e,
                StoreError::Busy | StoreError::LockTimeout | StoreError::BatchAborted
            ) {
                metrics::counter!("reservations_lock_failed_total", "channel" => channel)
                    .increment(1);
            }
            Err(e.into())
        }
    }
}

/// Takes a pre-reservation: holds the dates until `expires_at` while the guest pays the deposit.
#[utoipa::path(post, path = "/api/v1/reservations", tag = "public", request_body = ReserveBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = CreatedView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reserve(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    reserve_with(&state, &headers, body, Actor::Guest, "reserve").await
}

/// Same as `POST /api/v1/reservations` (the original system's path).
#[utoipa::path(post, path = "/api/v1/reservations/pre-reserve", tag = "public", request_body = ReserveBody,
    responses((status = 201, body = CreatedView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pre_reserve(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    reserve_with(&state, &headers, body, Actor::Guest, "reserve").await
}

/// Who may see a reservation: an admin, or the guest holding its access token. Anything
/// else gets 401 (no credentials) or 404 (wrong ones), never a hint that the code exists.
pub(super) async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
) -> Result<(Reservation, Actor), ApiError> {
    let not_found = || {
        ApiError::not_found(
            "reservation_not_found",
            "no reservation with that code for these credentials",
        )
    };
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if let Some(email) = admin_email(state, headers)? {
        let r = state.store.reservation(code)?.ok_or_else(not_found)?;
        return Ok((r, Actor::Admin { email }));
    }
    if !is_reservation_code(code) {
        return Err(not_found());
    }
    let r = state.store.reservation(code)?.ok_or_else(not_found)?;
    if matches_sha256(token, &r.access_token_sha256) {
        Ok((r, Actor::Guest))
    } else {
        Err(not_found())
    }
}

/// A reservation, for its guest (Bearer access token) or an admin.
#[utoipa::path(get, path = "/api/v1/reservations/{code}", tag = "public",
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<ReservationView>, ApiError> {
    let (r, actor) = authorize(&state, &headers, &code).await?;
    Ok(Json(view_for(&actor, &r)))
}

/// The view `actor` may see of `r`.
fn view_for(actor: &Actor, r: &Reservation) -> ReservationView {
    match actor {
        Actor::Guest => ReservationView::for_guest(r),
        _ => ReservationView::of(r),
    }
}

/// The `reason` of an optional JSON body `{"reason": ...}`, or `default` when absent or blank.
pub fn reason_from(body: &[u8], default: &str) -> Result<String, ApiError> {
    let parsed = if body.is_empty() {
        ReasonBody::default()
    } else {
        parse_json::<ReasonBody>(body)?
    };
    Ok(parsed
        .reason
        .map(|r| r.trim().chars().take(500).collect::<String>())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_owned()))
}

/// Why the guest or host cancels.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound => ApiError::not_found("reservation_not_found", e.to_string()),
            ChangeError::InvalidState { .. } => ApiError::conflict("invalid_state", e.to_string()),
            ChangeError::DateOverlap => ApiError::conflict("date_overlap", e.to_string()),
            ChangeError::RequiresHost => {
                ApiError::conflict("cancellation_requires_host", e.to_string())
            }
        }
    }
}

/// Applies a status change and counts it.
pub async fn change_status(
    state: &AppState,
    code: String,
    to: Status,
    actor: Actor,
    reason: String,
) -> Result<Json<ReservationView>, ApiError> {
    let guest = actor == Actor::Guest;
    let reason_kind = match &actor {
        Actor::Guest => "guest",
        Actor::Admin { .. } => "host",
        Actor::System => "system",
    };
    let r = state
        .store
        .change_status(code, ChangeRequest { to, actor, reason })
        .await??;
    let channel = r.channel.as_str();
    match to {
        Status::Confirmed => {
            metrics::counter!("reservations_confirmed_total", "channel" => channel).increment(1)
        }
        Status::Cancelled => {
            metrics::counter!("reservations_cancelled_total", "reason" => reason_kind).increment(1)
        }
        _ => {}
    }
    tracing::info!(code = %r.code, status = %r.status, "reservation status changed");
    Ok(Json(if guest {
        ReservationView::for_guest(&r)
    } else {
        ReservationView::of(&r)
    }))
}

/// Cancels a reservation: a guest can cancel their hold; a confirmed booking needs the host.
#[utoipa::path(post, path = "/api/v1/reservations/{code}/cancel", tag = "public",
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>), security(("bearer" = [])),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_reservation(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let (_, actor) = authorize(&state, &headers, &code).await?;
    let reason = reason_from(&body, "cancelled")?;
    change_status(&state, code, Status::Cancelled, actor, reason).await
}
