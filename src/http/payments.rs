//! Payment links (for the guest and the host) and the host's view of payments and of the
//! events waiting in the outbox.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::AdminAuth;
use super::auth::authorize;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery};
use super::input::reservation_code;
use crate::domain::events::DomainEvent;
use crate::domain::ids::ReservationCode;
use crate::domain::payment::{PaymentFlag, PaymentRecord};
use crate::domain::reservation::Reservation;
use crate::store::PaymentFilter;

/// A hold's deposit link.
#[derive(Serialize, ToSchema)]
pub struct PaymentLinkView {
    code: String,
    /// Mercado Pago Checkout Pro `init_point`: where the guest pays.
    payment_url: String,
    preference_id: String,
    /// The link works until the hold lapses.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
}

async fn link_view(state: &AppState, r: &Reservation) -> Result<Json<PaymentLinkView>, ApiError> {
    let app = &state.app;
    let linked = app
        .payments
        .link(r, app.settings.mercadopago.max_retries)
        .await?;
    Ok(Json(PaymentLinkView {
        code: linked.code.to_string(),
        payment_url: linked.payment.payment_url.unwrap_or_default(),
        preference_id: linked.payment.preference_id.unwrap_or_default(),
        expires_at: linked.expires_at,
    }))
}

/// The deposit link of a hold (made now if it has none for its current expiry), for its
/// guest (Bearer access token) or an admin.
#[utoipa::path(post, path = "/api/v1/reservations/{code}/payment-link", tag = "public",
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PaymentLinkView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn guest_payment_link(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<PaymentLinkView>, ApiError> {
    let (r, _) = authorize(&state, &headers, &code)?;
    link_view(&state, &r).await
}

/// The deposit link of a hold, for the host to send to the guest.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/payment-link", tag = "admin",
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PaymentLinkView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn admin_payment_link(
    _admin: AdminAuth,
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<PaymentLinkView>, ApiError> {
    const NOT_FOUND: &str = "no reservation with that code";
    let code = reservation_code(&code, NOT_FOUND)?;
    let r = state
        .app
        .booking
        .reservation(&code)?
        .ok_or_else(|| ApiError::no_reservation(NOT_FOUND))?;
    link_view(&state, &r).await
}

#[derive(Deserialize, IntoParams)]
pub struct PaymentsQuery {
    /// Only payments with this flag: `orphan`, `amount_mismatch`, `currency_mismatch`,
    /// `needs_refund`, `reversed`.
    flag: Option<PaymentFlag>,
}

/// Every payment received, most recent first, including orphans and the ones that need the
/// host (refunds, mismatches).
#[utoipa::path(get, path = "/api/v1/admin/payments", tag = "admin", security(("bearer" = [])),
    params(PaymentsQuery),
    responses((status = 200, body = [PaymentRecord]), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_payments(
    _admin: AdminAuth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PaymentsQuery>,
) -> Result<Json<Vec<PaymentRecord>>, ApiError> {
    Ok(Json(
        state.app.store.payments(PaymentFilter { flag: q.flag })?,
    ))
}

/// The payments of one reservation, with their status histories.
#[utoipa::path(get, path = "/api/v1/admin/reservations/{code}/payments", tag = "admin",
    security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = [PaymentRecord]), (status = 401, body = ErrorBody)))]
pub async fn reservation_payments(
    _admin: AdminAuth,
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Vec<PaymentRecord>>, ApiError> {
    let Some(code) = ReservationCode::parse(&code) else {
        return Ok(Json(vec![]));
    };
    Ok(Json(state.app.store.reservation_payments(&code)?))
}

/// One event in the outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxItem {
    id: u64,
    #[serde(flatten)]
    event: DomainEvent,
}

/// Guest and host notifications recorded for delivery, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [OutboxItem]), (status = 401, body = ErrorBody)))]
pub async fn outbox(
    _admin: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<OutboxItem>>, ApiError> {
    Ok(Json(
        state
            .app
            .store
            .outbox()?
            .into_iter()
            .map(|(id, event)| OutboxItem { id, event })
            .collect(),
    ))
}
