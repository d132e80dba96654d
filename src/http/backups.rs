//! Operator endpoints for backups: take a snapshot now, list the snapshots kept.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::OperatorAuth;
use super::error::{ApiError, ErrorBody};
use crate::store::backup::{BackupError, SnapshotInfo};

impl From<BackupError> for ApiError {
    fn from(e: BackupError) -> Self {
        tracing::error!(error = %e, "backup failed");
        let no_space = match &e {
            BackupError::NoSpace { .. } => true,
            BackupError::Store(store) => crate::store::means_no_space(store),
            BackupError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        };
        if no_space {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                e.to_string(),
            );
        }
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "backup_failed",
            e.to_string(),
        )
    }
}

/// Takes a consistent snapshot of the store now (in `backup.dir`), prunes old ones beyond
/// `backup.keep`, and answers where it is. Needs an admin session or the control token.
#[utoipa::path(post, path = "/api/v1/admin/backups", tag = "admin", security(("bearer" = [])),
    responses((status = 201, body = SnapshotInfo), (status = 401, body = ErrorBody),
        (status = 500, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn take_backup(
    _: OperatorAuth,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<SnapshotInfo>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.ops.backups.take().await?)))
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
            .ops
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
