//! Admin API: login, accommodations, reservations, blocks, CSV export and stats.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use super::public::{
    ReasonBody, ReserveBody, change_status, parse_date, reason_from, reserve_with,
};
use super::views::{CreatedView, ReservationView};
use crate::domain::accommodation::{Accommodation, AccommodationInput};
use crate::domain::block::OwnerBlock;
use crate::domain::dates::{NightRange, local_today};
use crate::domain::reservation::{Actor, Reservation, Status};
use crate::domain::stay::StayError;
use crate::secret::{random_hex, verify_password};
use crate::store::{AccommodationError, AdminSession, BlockError, ReservationFilter, Stats};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginView {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// Exchanges an admin's email and password for a session token.
#[utoipa::path(post, path = "/api/v1/admin/login", tag = "admin", request_body = LoginBody,
    responses((status = 200, body = LoginView), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<LoginView>, ApiError> {
    let (token, session) = open_session(&state, body).await?;
    Ok(Json(LoginView {
        token,
        expires_at: session.expires_at,
    }))
}

/// Checks an admin's password and opens a session: its token and record.
pub async fn open_session(
    state: &AppState,
    body: LoginBody,
) -> Result<(String, AdminSession), ApiError> {
    let email = body.email.trim().to_lowercase();
    let user = state.store.admin(&email)?;
    let hash = user.map(|u| u.password_hash);
    let password = body.password;
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false);
    if !verified {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        ));
    }
    let token = random_hex(32);
    let session = state
        .store
        .create_session(&token, email, state.settings.session_ttl)
        .await?;
    Ok((token, session))
}

/// Ends the current session: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/admin/logout", tag = "admin", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<StatusCode, ApiError> {
    state.store.delete_session(&admin.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn invalid_accommodation(e: crate::domain::accommodation::InvalidAccommodation) -> ApiError {
    ApiError::validation(e.to_string())
}

fn accommodation_error(e: AccommodationError) -> ApiError {
    ApiError::not_found("accommodation_not_found", e.to_string())
}

/// Every accommodation, active or not.
#[utoipa::path(get, path = "/api/v1/admin/accommodations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [Accommodation]), (status = 401, body = ErrorBody)))]
pub async fn list_accommodations(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Accommodation>>, ApiError> {
    Ok(Json(state.store.accommodations()?))
}

/// Adds an accommodation.
#[utoipa::path(post, path = "/api/v1/admin/accommodations", tag = "admin", security(("bearer" = [])),
    request_body = AccommodationInput,
    responses((status = 201, body = Accommodation), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiJson(input): ApiJson<AccommodationInput>,
) -> Result<(StatusCode, Json<Accommodation>), ApiError> {
    let spec = input.validate().map_err(invalid_accommodation)?;
    let acc = state.store.create_accommodation(spec).await?;
    Ok((StatusCode::CREATED, Json(acc)))
}

/// Replaces an accommodation's description and prices.
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = AccommodationInput,
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
    ApiJson(input): ApiJson<AccommodationInput>,
) -> Result<Json<Accommodation>, ApiError> {
    let spec = input.validate().map_err(invalid_accommodation)?;
    let acc = state
        .store
        .update_accommodation(id, move |s| *s = spec)
        .await?
        .map_err(accommodation_error)?;
    Ok(Json(acc))
}

async fn set_active(
    state: &AppState,
    id: u64,
    active: bool,
) -> Result<Json<Accommodation>, ApiError> {
    let acc = state
        .store
        .update_accommodation(id, move |s| s.active = active)
        .await?
        .map_err(accommodation_error)?;
    Ok(Json(acc))
}

/// Takes an accommodation off sale (existing bookings stay).
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Accommodation>, ApiError> {
    set_active(&state, id, false).await
}

/// Puts an accommodation back on sale.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/activate", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn activate_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Accommodation>, ApiError> {
    set_active(&state, id, true).await
}

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    status: Option<String>,
    accommodation_id: Option<u64>,
    /// Stays with a night on or after this date.
    from: Option<String>,
    /// Stays with a night before this date.
    to: Option<String>,
    /// Text in code, guest name, phone or email.
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

impl ListQuery {
    fn filter(&self) -> Result<ReservationFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .map(|s| {
                Status::parse(s)
                    .ok_or_else(|| ApiError::validation(format!("unknown status {s:?}")))
            })
            .transpose()?;
        let window = match (&self.from, &self.to) {
            (None, None) => None,
            (from, to) => {
                let from = from
                    .as_deref()
                    .map(|f| parse_date("from", f))
                    .transpose()?
                    .unwrap_or(jiff::civil::Date::MIN);
                let to = to
                    .as_deref()
                    .map(|t| parse_date("to", t))
                    .transpose()?
                    .unwrap_or(jiff::civil::Date::MAX);
                Some(
                    NightRange::new(from, to)
                        .map_err(|_| ApiError::validation("to must be after from"))?,
                )
            }
        };
        Ok(ReservationFilter {
            status,
            accommodation_id: self.accommodation_id,
            window,
            text: self.q.clone().filter(|t| !t.trim().is_empty()),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReservationPageView {
    items: Vec<ReservationView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// Reservations, newest first, filtered and paginated by cursor.
#[utoipa::path(get, path = "/api/v1/admin/reservations", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = ReservationPageView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_reservations(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ReservationPageView>, ApiError> {
    let filter = q.filter()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .store
        .list_reservations(&filter, q.cursor.as_deref(), limit)?;
    Ok(Json(ReservationPageView {
        items: page.items.iter().map(ReservationView::of).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A manual booking (e.g. taken by phone); `confirmed: true` skips the hold.
#[utoipa::path(post, path = "/api/v1/admin/reservations", tag = "admin", security(("bearer" = [])),
    request_body = ReserveBody,
    responses((status = 201, body = CreatedView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reservation(
    State(state): State<AppState>,
    admin: AdminAuth,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    reserve_with(
        &state,
        &headers,
        body,
        Actor::Admin { email: admin.email },
        "admin-reserve",
    )
    .await
}

/// A reservation with its audit trail.
#[utoipa::path(get, path = "/api/v1/admin/reservations/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<ReservationView>, ApiError> {
    let r = state.store.reservation(&code)?.ok_or_else(|| {
        ApiError::not_found("reservation_not_found", "no reservation with that code")
    })?;
    Ok(Json(ReservationView::of(&r)))
}

/// Confirms a hold (e.g. the deposit arrived by transfer). A lapsed hold is confirmed only if
/// its dates are still free.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/confirm", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "confirmed by the host")?;
    change_status(
        &state,
        code,
        Status::Confirmed,
        Actor::Admin { email: admin.email },
        reason,
    )
    .await
}

/// Cancels a hold or a booking; `reason` is required.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/cancel", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "")?;
    if reason.is_empty() {
        return Err(ApiError::validation("reason is required"));
    }
    change_status(
        &state,
        code,
        Status::Cancelled,
        Actor::Admin { email: admin.email },
        reason,
    )
    .await
}

/// Marks a confirmed booking whose guest never came.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/no-show", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn no_show(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "guest did not arrive")?;
    change_status(
        &state,
        code,
        Status::NoShow,
        Actor::Admin { email: admin.email },
        reason,
    )
    .await
}

/// Escapes one CSV cell (RFC 4180) and defuses spreadsheet formulas (a plain `+digits` phone
/// number is left as it is).
pub fn csv_cell(value: &str) -> String {
    let phone =
        value.len() > 1 && value.starts_with('+') && value[1..].bytes().all(|b| b.is_ascii_digit());
    let value = if !phone && value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_row(r: &Reservation) -> String {
    let cells = [
        r.code.clone(),
        r.status.to_string(),
        r.accommodation_id.to_string(),
        r.range.check_in().to_string(),
        r.range.check_out().to_string(),
        r.range.nights().to_string(),
        r.guests.to_string(),
        r.contact.name.clone(),
        r.contact.phone.clone(),
        r.contact.email.clone().unwrap_or_default(),
        r.channel.as_str().to_owned(),
        r.total.to_string(),
        r.deposit.to_string(),
        r.currency.clone(),
        r.created_at.to_string(),
    ];
    cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",")
        + "\r\n"
}

/// Every reservation matching the filters, as CSV (UTF-8, CRLF).
#[utoipa::path(get, path = "/api/v1/admin/reservations.csv", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let rows = state.store.all_reservations(&q.filter()?)?;
    let mut out = String::from(
        "code,status,accommodation_id,check_in,check_out,nights,guests,contact_name,contact_phone,contact_email,channel,total_price,deposit_amount,currency,created_at\r\n",
    );
    for r in &rows {
        out.push_str(&csv_row(r));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"reservas.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Counts by status, revenue and occupancy this month.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Stats>, ApiError> {
    let units = state
        .store
        .accommodations()?
        .iter()
        .filter(|a| a.spec.active)
        .count() as u64;
    Ok(Json(state.store.stats(
        &state.settings.time_zone,
        &state.settings.currency,
        units,
    )?))
}

/// Longest owner block.
const MAX_BLOCK_NIGHTS: u32 = 730;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    accommodation_id: u64,
    /// First blocked night, `yyyy-mm-dd`.
    check_in: String,
    /// Day after the last blocked night.
    check_out: String,
    reason: Option<String>,
}

/// An owner block as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct BlockView {
    code: String,
    accommodation_id: u64,
    #[schema(value_type = String, format = Date)]
    check_in: jiff::civil::Date,
    #[schema(value_type = String, format = Date)]
    check_out: jiff::civil::Date,
    reason: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    created_by: String,
}

impl BlockView {
    fn of(b: &OwnerBlock) -> Self {
        BlockView {
            code: b.code.clone(),
            accommodation_id: b.accommodation_id,
            check_in: b.range.check_in(),
            check_out: b.range.check_out(),
            reason: b.reason.clone(),
            created_at: b.created_at,
            created_by: b.created_by.clone(),
        }
    }
}

fn block_error(e: BlockError) -> ApiError {
    match e {
        BlockError::AccommodationNotFound => {
            ApiError::not_found("accommodation_not_found", e.to_string())
        }
        BlockError::DateOverlap => ApiError::conflict("date_overlap", e.to_string()),
        BlockError::NotFound => ApiError::not_found("block_not_found", e.to_string()),
    }
}

/// Takes dates off sale on one accommodation.
#[utoipa::path(post, path = "/api/v1/admin/blocks", tag = "admin", security(("bearer" = [])),
    request_body = BlockBody,
    responses((status = 201, body = BlockView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_block(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiJson(body): ApiJson<BlockBody>,
) -> Result<(StatusCode, Json<BlockView>), ApiError> {
    let check_in = parse_date("check_in", &body.check_in)?;
    let check_out = parse_date("check_out", &body.check_out)?;
    let range = NightRange::new(check_in, check_out)
        .ok()
        .filter(|r| r.nights() <= MAX_BLOCK_NIGHTS)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_dates",
                "check_out must be after check_in, at most 730 nights later",
            )
        })?;
    if check_in < local_today(Timestamp::now(), &state.settings.time_zone) {
        return Err(StayError::PastDates.into());
    }
    let reason = body
        .reason
        .unwrap_or_default()
        .trim()
        .chars()
        .take(500)
        .collect();
    let block = state
        .store
        .create_block(body.accommodation_id, range, reason, admin.email)
        .await?
        .map_err(block_error)?;
    Ok((StatusCode::CREATED, Json(BlockView::of(&block))))
}

#[derive(Deserialize, IntoParams)]
pub struct BlocksQuery {
    accommodation_id: Option<u64>,
}

/// Owner blocks, optionally of one accommodation.
#[utoipa::path(get, path = "/api/v1/admin/blocks", tag = "admin", security(("bearer" = [])),
    params(BlocksQuery),
    responses((status = 200, body = [BlockView]), (status = 401, body = ErrorBody)))]
pub async fn list_blocks(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<BlocksQuery>,
) -> Result<Json<Vec<BlockView>>, ApiError> {
    Ok(Json(
        state
            .store
            .blocks(q.accommodation_id)?
            .iter()
            .map(BlockView::of)
            .collect(),
    ))
}

/// Removes an owner block and frees its dates.
#[utoipa::path(delete, path = "/api/v1/admin/blocks/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = BlockView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_block(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<BlockView>, ApiError> {
    let block = state.store.delete_block(code).await?.map_err(block_error)?;
    Ok(Json(BlockView::of(&block)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("Ana"), "Ana");
        assert_eq!(csv_cell("Pérez, Ana"), "\"Pérez, Ana\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("+5491122334455"), "+5491122334455");
        assert_eq!(csv_cell("+1+2"), "'+1+2");
    }
}
