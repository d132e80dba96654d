//! Guests' live unpaid holds by client for the host (`GET /admin/holds`), and cancelling all
//! of one phone's or one network's holds in one action (`POST /admin/holds/cancel`).

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::views::ReservationView;
use crate::domain::hold_limits::ClientKind;

/// One client's live unpaid holds.
#[derive(Serialize, ToSchema)]
pub struct ClientHoldsView {
    /// `phone` or `address`.
    kind: ClientKind,
    /// The phone (E.164), or the network (an IPv4 address, an IPv6 `/64`).
    client: String,
    count: usize,
    holds: Vec<ReservationView>,
}

/// Live guest holds by client.
#[derive(Serialize, ToSchema)]
pub struct HoldsView {
    /// Most holds first; a hold appears under its phone and under its network.
    clients: Vec<ClientHoldsView>,
    limits: LimitsView,
}

/// The configured `[holds]` limits (0 = off).
#[derive(Serialize, ToSchema)]
pub struct LimitsView {
    per_phone: u32,
    per_address: u32,
    max_nights: u32,
    window_days: u32,
    max_share_percent: u32,
}

/// Guests' live unpaid holds grouped by phone and by client network, with the limits.
#[utoipa::path(get, path = "/api/v1/admin/holds", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HoldsView), (status = 401, body = ErrorBody)))]
pub async fn list_holds(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<HoldsView>, ApiError> {
    let groups = state.app.booking.holds_by_client(Timestamp::now())?;
    let l = state.app.settings.hold_limits;
    Ok(Json(HoldsView {
        clients: groups
            .into_iter()
            .map(|g| ClientHoldsView {
                kind: g.kind,
                client: g.client,
                count: g.holds.len(),
                holds: g.holds.iter().map(ReservationView::of).collect(),
            })
            .collect(),
        limits: LimitsView {
            per_phone: l.per_phone,
            per_address: l.per_address,
            max_nights: l.max_nights,
            window_days: l.window_days,
            max_share_percent: l.max_share_percent,
        },
    }))
}

/// Whose holds to cancel: exactly one of `phone` and `address`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelHoldsBody {
    /// As listed (E.164).
    phone: Option<String>,
    /// As listed (`203.0.113.9`, `2001:db8::/64`).
    address: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CancelledHoldsView {
    cancelled: Vec<ReservationView>,
}

/// Cancels every live unpaid hold of one phone or one network, in one commit.
#[utoipa::path(post, path = "/api/v1/admin/holds/cancel", tag = "admin", security(("bearer" = [])),
    request_body = CancelHoldsBody,
    responses((status = 200, body = CancelledHoldsView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel_holds(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiJson(body): ApiJson<CancelHoldsBody>,
) -> Result<Json<CancelledHoldsView>, ApiError> {
    let (kind, client) = match (body.phone, body.address) {
        (Some(phone), None) => (ClientKind::Phone, phone),
        (None, Some(address)) => (ClientKind::Address, address),
        _ => {
            return Err(ApiError::validation(
                "give exactly one of phone and address",
            ));
        }
    };
    let client = client.trim().to_owned();
    if client.is_empty() || client.len() > 64 {
        return Err(ApiError::validation(
            "phone or address is empty or too long",
        ));
    }
    let cancelled = state
        .app
        .booking
        .cancel_client_holds(kind, client, admin.email)
        .await?;
    Ok(Json(CancelledHoldsView {
        cancelled: cancelled.iter().map(ReservationView::of).collect(),
    }))
}
