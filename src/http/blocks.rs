//! Owner blocks over HTTP: take dates off sale, list them, give them back.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::input::parse_date;
use crate::domain::block::OwnerBlock;
use crate::domain::ids::AccommodationId;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    #[schema(value_type = u64)]
    accommodation_id: AccommodationId,
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
    #[schema(value_type = u64)]
    accommodation_id: AccommodationId,
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
    let block = state
        .app
        .booking
        .block(
            body.accommodation_id,
            (check_in, check_out),
            body.reason,
            admin.email,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(BlockView::of(&block))))
}

#[derive(Deserialize, IntoParams)]
pub struct BlocksQuery {
    #[param(value_type = Option<u64>)]
    accommodation_id: Option<AccommodationId>,
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
            .app
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
    let block = state.app.booking.unblock(code).await?;
    Ok(Json(BlockView::of(&block)))
}
