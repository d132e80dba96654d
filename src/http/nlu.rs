//! What the bot understands of a message, for the host (admin only, no side effects).

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::domain::dates::{local_today, parse_date};
use crate::domain::nlu::{Intent, analyze};

/// A message to analyse.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    /// The guest's text (at most 4096 characters).
    text: String,
    /// The day the message is written, `yyyy-mm-dd` (default: today at the property).
    reference_date: Option<String>,
}

/// What the bot understood; nulls where it understood nothing.
#[derive(Serialize, ToSchema)]
pub struct AnalysisView {
    intent: Intent,
    #[schema(value_type = Option<String>, format = Date)]
    check_in: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    check_out: Option<Date>,
    guests: Option<u32>,
    accommodation_id: Option<u64>,
}

/// Runs the bot's understanding on a text, exactly as for a WhatsApp message.
#[utoipa::path(post, path = "/api/v1/nlu/analyze", tag = "admin", request_body = AnalyzeBody,
    security(("bearer" = [])),
    responses((status = 200, body = AnalysisView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn analyze_text(
    _admin: AdminAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AnalyzeBody>,
) -> Result<Json<AnalysisView>, ApiError> {
    if body.text.chars().count() > 4096 {
        return Err(ApiError::validation("text must be at most 4096 characters"));
    }
    let today = match body.reference_date.as_deref() {
        Some(d) => parse_date(d)
            .ok_or_else(|| ApiError::validation("reference_date must be yyyy-mm-dd"))?,
        None => local_today(Timestamp::now(), &state.app.settings.time_zone),
    };
    let names = state.app.accommodations.active_names()?;
    let a = analyze(&body.text, today, &names);
    Ok(Json(AnalysisView {
        intent: a.intent,
        check_in: a.check_in,
        check_out: a.check_out,
        guests: a.guests,
        accommodation_id: a.accommodation_id,
    }))
}
