//! What a guest does on their page: cancel a hold, or ask for the deposit's payment link
//! when the hold has none. Each form needs the reservation's secret, a form token from the
//! guest page and a request from our own site.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::guest::{GuestQuery, authorized, link, view};
use super::{SiteError, forms, page};
use crate::domain::booking::ChangeError;
use crate::domain::reservation::{Actor, Reservation, Status};
use crate::http::AppState;

/// A guest form: the secret and the form token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GuestForm {
    clave: String,
    token: String,
}

/// Checks the form (origin, token, secret), runs `work` on the reservation, and goes back to
/// the guest page, with the notice `work` returns shown there.
async fn act<Fut>(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
    purpose: &str,
    f: &GuestForm,
    work: impl FnOnce(Reservation) -> Fut,
) -> Result<Response, SiteError>
where
    Fut: Future<Output = Result<Option<&'static str>, SiteError>>,
{
    if !forms::same_origin(headers, state.app.settings.public_base_url.as_deref())
        || !forms::token_valid(&f.token, &format!("{purpose}:{code}"), Timestamp::now())
    {
        return Err(SiteError::Forbidden);
    }
    let (r, secret) = authorized(state, code, Some(&f.clave), headers)?;
    let code = r.code.clone();
    match work(r).await? {
        None => Ok(Redirect::to(&link(code.as_str(), &secret)).into_response()),
        Some(notice) => {
            let r = state
                .app
                .booking
                .reservation(&code)?
                .ok_or(SiteError::NotFound)?;
            let mut v = view(state, &r, &secret, &GuestQuery::default())?;
            v.notice = Some(notice);
            Ok(page(state, headers, StatusCode::CONFLICT, "no-store", &v))
        }
    }
}

/// `POST /reserva/{code}/cancelar`: the guest cancels their hold (a confirmed stay is the
/// host's to cancel).
pub async fn cancel(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Form(f): Form<GuestForm>,
) -> Response {
    let booking = state.app.booking.clone();
    act(&state, &headers, &code, "cancel", &f, |r| async move {
        let reason = "cancelled by the guest on the site".to_owned();
        Ok(
            match booking
                .change(r.code, Status::Cancelled, Actor::Guest, reason)
                .await?
            {
                Ok(_) => None,
                Err(ChangeError::RequiresHost) => {
                    Some("Una reserva confirmada sólo la puede cancelar el anfitrión: escribile.")
                }
                Err(_) => Some("Esta reserva ya no se puede cancelar."),
            },
        )
    })
    .await
    .unwrap_or_else(|e| e.respond(&state, &headers))
}

/// `POST /reserva/{code}/pagar`: makes the hold's payment link when it has none.
pub async fn pay(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Form(f): Form<GuestForm>,
) -> Response {
    let payments = state.app.payments.clone();
    act(&state, &headers, &code, "pay", &f, |r| async move {
        Ok(match payments.link(&r, 1).await {
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(code = %r.code, error = %e, "no payment link for a site guest");
                Some("No pudimos generar el link de pago. Probá de nuevo en unos minutos.")
            }
        })
    })
    .await
    .unwrap_or_else(|e| e.respond(&state, &headers))
}
