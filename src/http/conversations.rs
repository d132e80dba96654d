//! The host's WhatsApp chats: list, read, take over from the bot (handing back is
//! `POST …/resume`, in the webhook adapter).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiPath;
use crate::channels::whatsapp::{Chat, ChatSummary};

fn digits(phone: &str) -> String {
    phone.trim_start_matches('+').to_owned()
}

/// Every WhatsApp chat, the most recently active first.
#[utoipa::path(get, path = "/api/v1/admin/whatsapp/conversations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [ChatSummary]), (status = 401, body = ErrorBody)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<ChatSummary>>, ApiError> {
    Ok(Json(state.whatsapp.chats()?))
}

/// One chat with its recent messages (the last 200, both ways).
#[utoipa::path(get, path = "/api/v1/admin/whatsapp/conversations/{phone}", tag = "admin",
    security(("bearer" = [])), params(("phone" = String, Path, description = "international digits")),
    responses((status = 200, body = Chat), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(phone): ApiPath<String>,
) -> Result<Json<Chat>, ApiError> {
    state
        .whatsapp
        .chat(&digits(&phone))?
        .map(Json)
        .ok_or_else(ApiError::no_conversation)
}

/// The host takes a chat over: the bot stays silent there until handed back (`…/resume`) or
/// `whatsapp.handover_timeout` passes.
#[utoipa::path(post, path = "/api/v1/admin/whatsapp/conversations/{phone}/handover", tag = "admin",
    security(("bearer" = [])), params(("phone" = String, Path, description = "international digits")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn take_over(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(phone): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.whatsapp.take_over(digits(&phone)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::no_conversation())
    }
}
