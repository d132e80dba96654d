//! What the host is shown of stored records that no longer decode: each is skipped by lists,
//! jobs and workers, which go on without it; the RUNBOOK says what to do about it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use crate::store::UnreadableRecord;

/// The unreadable records met since the start.
#[derive(Serialize, ToSchema)]
pub struct DecodeErrors {
    count: usize,
    /// By table and key.
    records: Vec<UnreadableRecord>,
}

/// Stored records that cannot be decoded (by table and key, without their content). Health's
/// `records` check is degraded while this list is not empty.
#[utoipa::path(get, path = "/api/v1/admin/store/decode-errors", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = DecodeErrors), (status = 401, body = ErrorBody)))]
pub async fn decode_errors(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<DecodeErrors>, ApiError> {
    let records = state.app.store.unreadable_records();
    Ok(Json(DecodeErrors {
        count: records.len(),
        records,
    }))
}
