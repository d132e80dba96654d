//! The embed for the host's own website: `/embed` (a compact search and a "Reservar" per
//! accommodation, for an iframe; every link opens the site in the top window, where the
//! booking and Mercado Pago's checkout happen) and `/sitio/embed.js` (a script tag that adds
//! a "Reservar" button, or the iframe with `data-modo="widget"`). Framing is allowed only to
//! the origins of `site.frame_ancestors`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::stay::{StayQuery, cards, search};
use super::views::{Base, Embed};
use super::{SiteError, page};
use crate::http::AppState;

/// `GET /embed`
pub async fn widget(
    State(state): State<AppState>,
    Query(q): Query<StayQuery>,
    headers: HeaderMap,
) -> Response {
    let shown = (|| {
        let now = Timestamp::now();
        let property = state.app.site.property()?;
        let listing = cards(&state, &q, now)?;
        let view = Embed {
            base: Base::plain(&property.name, &property.name),
            search: search(&q, state.app.booking.today(now), listing.max_guests),
            cards: listing.cards,
        };
        Ok::<_, SiteError>(page(&state, &headers, StatusCode::OK, "no-cache", &view))
    })();
    shown.unwrap_or_else(|e| e.respond(&state, &headers))
}

/// `GET /sitio/embed.js`
pub async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../../../assets/site/embed.js"),
    )
        .into_response()
}
