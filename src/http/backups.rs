//! Operator endpoints for backups: take a snapshot now, list the snapshots kept.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::OperatorAuth;
use super::error::{ApiError, ErrorBody};
use crate::store::backup::SnapshotInfo;

/// Takes a consistent snapshot of the store now (in `backup.dir`), prunes old ones beyond
/// `backup.keep`, and answers where it is. Needs an admin session or the control token.
#[utoipa::path(post, path = "/api/v1/admin/backups", tag = "admin", security(("bearer" = [])),
    responses((status = 201, body = SnapshotInfo), (status = 401, body = ErrorBody),
        (status = 500, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn take_backup(
    _: OperatorAuth,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<SnapshotInfo>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.app.backups.take().await?)))
}

/// One snapshot on disk.
#[derive(Serialize, ToSchema)]
pub struct BackupView {
    path: String,
    size_bytes: u64,
}

/// The snapshots kept, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/backups", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [BackupView]), (status = 401, body = ErrorBody)))]
pub async fn list_backups(_: OperatorAuth, State(state): State<AppState>) -> Json<Vec<BackupView>> {
    Json(
        state
            .app
            .backups
            .list()
            .into_iter()
            .map(|p| BackupView {
                size_bytes: std::fs::metadata(&p).map_or(0, |m| m.len()),
                path: p.display().to_string(),
            })
            .collect(),
    )
}
