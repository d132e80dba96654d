//! The hold request as the public and admin APIs take it: the JSON body, the
//! `Idempotency-Key` header, and the answer (201 with the guest's access token, or the
//! refusal), replayed for a retry as it was first given.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::extract::parse_json;
use super::input::{guests_from, parse_date};
use super::views::{CreatedView, ReservationView};
use crate::app::booking::{Created, First, Held};
use crate::domain::booking::{NewReservation, ReserveError};
use crate::domain::contact::Contact;
use crate::domain::hold_limits::network_key;
use crate::domain::ids::AccommodationId;
use crate::domain::reservation::{Actor, Channel};
use crate::secret::sha256_hex_bytes;
use crate::store::IdempotencyKey;

/// A request for a pre-reservation (hold).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    #[schema(value_type = u64)]
    pub accommodation_id: AccommodationId,
    /// `yyyy-mm-dd`
    pub check_in: String,
    /// `yyyy-mm-dd`, exclusive
    pub check_out: String,
    pub guests: i64,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: Option<String>,
    pub channel: Option<Channel>,
    /// Admin only: create the booking confirmed (e.g. taken by phone).
    #[serde(default)]
    pub confirmed: bool,
    /// Admin only: a note for the audit trail.
    pub note: Option<String>,
}

impl ReserveBody {
    /// Parses into a request; `actor` decides whether admin-only fields are allowed and which
    /// channels may be named: a guest's request is `web`, `whatsapp` is the bot's alone.
    fn into_request(
        self,
        default_country: &str,
        actor: Actor,
        client_address: Option<IpAddr>,
    ) -> Result<NewReservation, ApiError> {
        let is_admin = matches!(actor, Actor::Admin { .. });
        if !is_admin && (self.confirmed || self.note.is_some()) {
            return Err(ApiError::validation(
                "confirmed and note are for admins only",
            ));
        }
        match self.channel {
            Some(Channel::Whatsapp) => {
                return Err(ApiError::validation(
                    "channel whatsapp is for holds taken in a WhatsApp chat",
                ));
            }
            Some(c) if !is_admin && c != Channel::Web => {
                return Err(ApiError::validation(
                    "a guest's reservation is channel web; other channels are the host's",
                ));
            }
            _ => {}
        }
        let contact = Contact::new(
            &self.contact_name,
            &self.contact_phone,
            self.contact_email.as_deref(),
            default_country,
        )?;
        Ok(NewReservation {
            accommodation_id: self.accommodation_id,
            check_in: parse_date("check_in", &self.check_in)?,
            check_out: parse_date("check_out", &self.check_out)?,
            guests: guests_from(self.guests)?,
            contact,
            channel: self.channel.unwrap_or(if is_admin {
                Channel::Admin
            } else {
                Channel::Web
            }),
            confirmed: self.confirmed,
            actor,
            note: self.note.unwrap_or_else(|| "created".into()),
            client_address,
        })
    }
}

/// The request's `Idempotency-Key`, scoped to its client (`client`: the guest's network or
/// the admin's email) and bound to its body: another client's key never replays, and the same
/// key with another body is refused.
fn idempotency_key(
    headers: &HeaderMap,
    body: &[u8],
    scope: &'static str,
    client: &str,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::validation("Idempotency-Key must be 1 to 200 visible ASCII characters")
        })?;
    Ok(Some(IdempotencyKey {
        scope,
        key: format!("{client}:{key}"),
        request_sha256: sha256_hex_bytes(body),
    }))
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The answer to a hold request that ran (now or the first time).
fn answer(outcome: Result<Created, ReserveError>) -> Response {
    match outcome {
        Ok(created) => {
            let view = CreatedView {
                reservation: ReservationView::of(&created.reservation),
                access_token: created.access_token,
            };
            json(
                StatusCode::CREATED,
                serde_json::to_string(&view).expect("views serialize"),
            )
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Takes a hold for `actor` from a JSON body sent from `client_address`; `scope` keeps the
/// keys of the public and admin APIs apart.
pub async fn reserve_with(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
    (actor, client_address): (Actor, Option<IpAddr>),
    scope: &'static str,
) -> Result<Response, ApiError> {
    let client = match (&actor, client_address) {
        (Actor::Admin { email }, _) => email.clone(),
        (_, Some(ip)) => network_key(ip),
        (_, None) => String::new(),
    };
    let key = idempotency_key(headers, &body, scope, &client)?;
    let req = parse_json::<ReserveBody>(&body)?.into_request(
        &state.app.settings.default_country_code,
        actor,
        client_address,
    )?;
    Ok(match state.app.booking.hold(req, key).await? {
        Held::Fresh(outcome) => answer(outcome),
        Held::Replayed(replayed) => match replayed.first {
            First::Outcome(outcome) => answer(outcome),
            First::Legacy(first) => json(
                StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK),
                first.body,
            ),
        },
        Held::KeyReused => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            ));
        }
    })
}
