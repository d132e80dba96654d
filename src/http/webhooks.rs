//! Mercado Pago notifications: verified (`x-signature` over the documented manifest),
//! recorded durably in the inbox, answered at once; the payments worker fetches and applies
//! the payment afterwards.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiQuery, parse_json};
use super::webhook_signature::{Presented, verify};

const SOURCE: &str = "mercadopago";

/// The original system's webhook path, kept as an alias.
pub const ORIGINAL_PATH: &str = "/api/v1/mercadopago/webhook";

/// The query string of a notification: `?data.id=…&type=payment`, or the older
/// `?topic=payment&id=…`.
#[derive(Deserialize, IntoParams)]
pub struct NotificationQuery {
    #[serde(rename = "data.id")]
    #[param(rename = "data.id")]
    data_id: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    topic: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize, Default)]
struct NotificationBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    topic: Option<String>,
    data: Option<NotificationData>,
}

#[derive(Deserialize)]
struct NotificationData {
    id: Option<Value>,
}

/// What became of a notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationAck {
    /// `accepted` (recorded for processing) or `ignored` (not about a payment).
    status: &'static str,
}

/// A bounded label for the notification's type.
fn event_type(kind: &str) -> &'static str {
    match kind {
        "payment" => "payment",
        "merchant_order" => "merchant_order",
        "chargebacks" => "chargebacks",
        _ => "other",
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn invalid_signature(detail: String) -> ApiError {
    tracing::warn!(source = SOURCE, reason = %detail, "webhook notification refused");
    metrics::counter!("webhook_signature_invalid_total", "source" => SOURCE).increment(1);
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", detail)
}

fn invalid_notification(detail: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_notification", detail)
}

async fn receive(
    state: &AppState,
    query: NotificationQuery,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<NotificationAck>, ApiError> {
    let started = Instant::now();
    let mp = &state.app.settings.mercadopago;
    let Some(secret) = &mp.webhook_secret else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook_not_configured",
            "mercadopago.webhook_secret is not set: notifications are refused",
        ));
    };
    let tolerance = i64::try_from(mp.signature_tolerance.as_secs()).unwrap_or(i64::MAX);
    let now = jiff::Timestamp::now().as_second();
    let signed = |id: Option<&str>| {
        let presented = Presented {
            header: header(headers, "x-signature"),
            data_id: id,
            request_id: header(headers, "x-request-id"),
        };
        verify(secret.as_bytes(), presented, now, tolerance)
    };
    // The payment id used is the one the signature covers: `data.id` from the query, or the
    // legacy `?topic=payment&id=` when it is signed as the manifest's id. An id only in the
    // body, or in an unsigned legacy query, is never used.
    let legacy_id = query.topic.is_some().then_some(query.id).flatten();
    let covered = match (query.data_id, legacy_id.as_deref()) {
        (Some(id), _) => {
            signed(Some(&id)).map_err(|e| invalid_signature(e.to_string()))?;
            Some(id)
        }
        (None, Some(id)) if signed(Some(id)).is_ok() => Some(id.to_owned()),
        _ => {
            signed(None).map_err(|e| invalid_signature(e.to_string()))?;
            None
        }
    };
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        NotificationBody::default()
    } else {
        parse_json::<NotificationBody>(body)?
    };
    let kind = query
        .kind
        .or(query.topic)
        .or(parsed.kind)
        .or(parsed.topic)
        .unwrap_or_default();
    let label = event_type(&kind);
    let body_id = parsed.data.and_then(|d| d.id).map(|id| match id {
        Value::String(s) => s,
        other => other.to_string(),
    });
    let ack = match (label, covered) {
        ("payment", Some(id)) => {
            if body_id.as_ref().is_some_and(|b| *b != id) {
                tracing::warn!(
                    source = SOURCE,
                    "the body names another payment than the signed id; using the signed one"
                );
            }
            if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid_notification("a payment id is a number"));
            }
            state.app.payments.notify(id).await?;
            "accepted"
        }
        ("payment", None) if legacy_id.is_none() && body_id.is_none() => {
            return Err(invalid_notification("the notification names no payment id"));
        }
        ("payment", None) => {
            tracing::warn!(
                source = SOURCE,
                "payment notification whose id the signature does not cover: ignored (reconciliation will ask Mercado Pago)"
            );
            "ignored"
        }
        _ => "ignored",
    };
    metrics::histogram!("webhook_processing_seconds", "source" => SOURCE, "event_type" => label)
        .record(started.elapsed().as_secs_f64());
    Ok(Json(NotificationAck { status: ack }))
}

/// Mercado Pago payment notifications. Verified with `x-signature` / `x-request-id`;
/// recorded durably before the 200, processed afterwards. Also served on
/// [`ORIGINAL_PATH`].
#[utoipa::path(post, path = "/api/v1/webhooks/mercadopago", tag = "webhooks",
    params(NotificationQuery,
        ("x-signature" = String, Header, description = "ts=<unix time>,v1=<hex HMAC-SHA256>"),
        ("x-request-id" = Option<String>, Header)),
    responses((status = 200, body = NotificationAck), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn mercadopago(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<NotificationQuery>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<NotificationAck>, ApiError> {
    receive(&state, query, &headers, &body).await
}
