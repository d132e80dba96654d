//! WhatsApp Cloud API webhooks: the verification handshake, and events verified with
//! `X-Hub-Signature-256`, recorded durably (deduplicated by message id) and answered at once;
//! the WhatsApp worker replies afterwards.

use std::collections::HashMap;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiQuery, parse_json};
use crate::domain::messages::{DeliveryStatus, InboundMessage, OutboundStatus};
use crate::secret::verify_hmac_sha256_hex;

const SOURCE: &str = "whatsapp";

/// The verification handshake's query string.
#[derive(Deserialize, IntoParams)]
pub struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// What became of an event delivery.
#[derive(Serialize, ToSchema)]
pub struct EventAck {
    /// `accepted` (recorded) or `ignored` (not a WhatsApp business account event).
    status: &'static str,
    /// Guest messages recorded for the first time (retries of known ones are dropped).
    new_messages: usize,
}

/// Meta's subscription handshake: `hub.mode=subscribe` with the configured verify token →
/// 200 with the raw `hub.challenge` as text/plain; anything else → 403.
#[utoipa::path(get, path = "/api/v1/webhooks/whatsapp", tag = "webhooks", params(VerifyQuery),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> Result<Response, ApiError> {
    let forbidden = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "wrong mode or verify token",
        )
    };
    let expected = state
        .app
        .settings
        .whatsapp
        .verify_token
        .as_deref()
        .ok_or_else(forbidden)?;
    let presented = q.verify_token.as_deref().unwrap_or("");
    let token_ok = crate::secret::matches_sha256(presented, &crate::secret::sha256_hex(expected));
    match (q.mode.as_deref(), q.challenge) {
        (Some("subscribe"), Some(challenge)) if token_ok => {
            Ok(([(header::CONTENT_TYPE, "text/plain")], challenge).into_response())
        }
        _ => Err(forbidden()),
    }
}

fn invalid_signature(detail: &str) -> ApiError {
    tracing::warn!(source = SOURCE, reason = detail, "webhook event refused");
    metrics::counter!("webhook_signature_invalid_total", "source" => SOURCE).increment(1);
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", detail)
}

/// A bounded label for a message type.
fn type_label(kind: &str) -> &'static str {
    match kind {
        "text" => "text",
        "interactive" => "interactive",
        "button" => "button",
        "audio" => "audio",
        "image" => "image",
        "location" => "location",
        "document" => "document",
        "video" => "video",
        "sticker" => "sticker",
        "reaction" => "reaction",
        _ => "other",
    }
}

fn text_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// One message of a change, if it comes from a plausible phone number.
fn message(m: &Value, names: &HashMap<String, String>) -> Option<InboundMessage> {
    let from = m["from"].as_str()?;
    let id = m["id"].as_str()?;
    if from.is_empty()
        || from.len() > 20
        || !from.bytes().all(|b| b.is_ascii_digit())
        || id.is_empty()
        || id.len() > 256
    {
        return None;
    }
    let kind = m["type"].as_str().unwrap_or("unknown");
    let (mut text, mut reply_id, mut media_id) = (None, None, None);
    match kind {
        "text" => text = text_of(&m["text"]["body"]),
        "interactive" => {
            let reply = if m["interactive"]["button_reply"].is_object() {
                &m["interactive"]["button_reply"]
            } else {
                &m["interactive"]["list_reply"]
            };
            reply_id = text_of(&reply["id"]);
            text = text_of(&reply["title"]);
        }
        "button" => text = text_of(&m["button"]["text"]),
        "audio" => media_id = text_of(&m["audio"]["id"]),
        _ => {}
    }
    let received_at = m["timestamp"]
        .as_str()
        .and_then(|t| t.parse::<i64>().ok())
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or_else(Timestamp::now);
    Some(InboundMessage {
        id: id.to_owned(),
        from: from.to_owned(),
        profile_name: names.get(from).cloned(),
        received_at,
        kind: kind.to_owned(),
        text,
        reply_id,
        media_id,
    })
}

fn status(s: &Value) -> Option<DeliveryStatus> {
    let status = match s["status"].as_str()? {
        "sent" => OutboundStatus::Sent,
        "delivered" => OutboundStatus::Delivered,
        "read" => OutboundStatus::Read,
        "failed" => OutboundStatus::Failed,
        _ => return None,
    };
    let error = s["errors"][0]["code"]
        .as_i64()
        .map(|c| format!("WhatsApp error {c}"));
    Some(DeliveryStatus {
        wamid: s["id"].as_str()?.to_owned(),
        status,
        error,
    })
}

/// Every message and status of every entry and change.
fn collect(payload: &Value) -> (Vec<InboundMessage>, Vec<DeliveryStatus>) {
    let (mut messages, mut statuses) = (Vec::new(), Vec::new());
    let empty = Vec::new();
    for entry in payload["entry"].as_array().unwrap_or(&empty) {
        for change in entry["changes"].as_array().unwrap_or(&empty) {
            let value = &change["value"];
            let names: HashMap<String, String> = value["contacts"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter_map(|c| {
                    Some((
                        c["wa_id"].as_str()?.to_owned(),
                        c["profile"]["name"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            for m in value["messages"].as_array().unwrap_or(&empty) {
                metrics::counter!("whatsapp_messages_received_total", "type" => type_label(m["type"].as_str().unwrap_or(""))).increment(1);
                messages.extend(message(m, &names));
            }
            statuses.extend(
                value["statuses"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .filter_map(status),
            );
        }
    }
    (messages, statuses)
}

/// WhatsApp events (messages and delivery statuses). Verified with `X-Hub-Signature-256`
/// (HMAC-SHA256 of the raw body with the app secret), recorded durably before the 200.
#[utoipa::path(post, path = "/api/v1/webhooks/whatsapp", tag = "webhooks",
    params(("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body>")),
    responses((status = 200, body = EventAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<EventAck>, ApiError> {
    let started = Instant::now();
    let Some(secret) = &state.app.settings.whatsapp.app_secret else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook_not_configured",
            "whatsapp.app_secret is not set: events are refused",
        ));
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| invalid_signature("X-Hub-Signature-256 is missing"))?;
    let hex = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| invalid_signature("X-Hub-Signature-256 must be sha256=<hex>"))?;
    if !verify_hmac_sha256_hex(secret.as_bytes(), &body, hex) {
        return Err(invalid_signature(
            "X-Hub-Signature-256 does not match the body",
        ));
    }
    let payload: Value = parse_json(&body)?;
    if payload["object"].as_str() != Some("whatsapp_business_account") {
        return Ok(Json(EventAck {
            status: "ignored",
            new_messages: 0,
        }));
    }
    let (messages, statuses) = collect(&payload);
    let event_type = match (messages.is_empty(), statuses.is_empty()) {
        (false, _) => "messages",
        (true, false) => "statuses",
        (true, true) => "other",
    };
    let new_messages = state.whatsapp.receive(messages, statuses).await?;
    metrics::histogram!("webhook_processing_seconds", "source" => SOURCE, "event_type" => event_type)
        .record(started.elapsed().as_secs_f64());
    Ok(Json(EventAck {
        status: "accepted",
        new_messages,
    }))
}

/// Every WhatsApp message the bot sent or will send, oldest first, with its delivery status
/// (`pending`, `sent`, `delivered`, `read`, `failed`), attempts and last error.
#[utoipa::path(get, path = "/api/v1/admin/whatsapp/outbox", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn outbox(
    _admin: super::auth::AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let messages = state.app.store.outbound_messages()?;
    Ok(Json(serde_json::json!({ "messages": messages })))
}

/// Hands a chat back to the bot after a handover (before `whatsapp.handover_timeout`).
#[utoipa::path(post, path = "/api/v1/admin/whatsapp/conversations/{phone}/resume", tag = "admin",
    security(("bearer" = [])), params(("phone" = String, Path, description = "international digits")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resume(
    _admin: super::auth::AdminAuth,
    State(state): State<AppState>,
    super::extract::ApiPath(phone): super::extract::ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let phone = phone.trim_start_matches('+').to_owned();
    if state.whatsapp.resume(phone).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::no_conversation())
    }
}
