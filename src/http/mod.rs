//! The HTTP channel: router, middleware stack and shared state. Handlers parse requests into
//! domain types, call the application layer (`crate::app`) and render its answers; every
//! error's status and code is in `error.rs`.

mod accommodations;
mod admin_ui;
mod auth;
mod backups;
mod blocks;
mod body_deadline;
mod booking;
mod calendar;
mod catalog;
mod content;
mod conversations;
mod decode_errors;
mod error;
mod export_settings;
mod extract;
mod feed_changes;
mod feeds;
mod health;
mod holds;
mod input;
mod middleware;
mod nlu;
mod payments;
mod rate_limit;
mod reservations;
mod session;
mod setup;
mod site;
mod views;
pub mod webhook_signature;
mod webhooks;
mod whatsapp;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, header};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
/// One CSV cell as the export writes it (public for the fuzz harness, `fuzz/harness`).
pub use reservations::csv::record as csv_record;

use crate::app::App;
use crate::channels::whatsapp::WhatsApp;
use rate_limit::RateLimiter;

/// What every handler can reach: the application, the WhatsApp channel (its webhook and the
/// host's chat views), and what only HTTP needs. Cloned for every request (by the router and
/// each `State` extractor), so it is one shared allocation: a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state behind [`AppState`].
pub struct Shared {
    pub app: App,
    pub whatsapp: WhatsApp,
    pub metrics: PrometheusHandle,
    /// SHA-256 of the control file's token, accepted by the operator endpoints.
    pub control_token_sha256: Arc<str>,
    /// HTTPS state, when the binary serves HTTPS itself (`AppState::with_tls`).
    pub tls: Option<Arc<crate::tls::TlsStatus>>,
    /// Where links shown to the host point: `server.public_base_url`, or this server's own
    /// address for a trial without one; never a request's `Host`.
    pub links_base: Arc<str>,
    rate_limiter: Option<RateLimiter>,
    ready: AtomicBool,
}

impl AppState {
    pub fn new(
        app: App,
        whatsapp: WhatsApp,
        metrics: PrometheusHandle,
        control_token_sha256: Arc<str>,
    ) -> Self {
        let rate_limiter = app.settings.rate_limit.map(RateLimiter::new);
        let links_base = app
            .settings
            .public_base_url
            .clone()
            .unwrap_or_else(|| crate::control::local_url(app.settings.listen))
            .into();
        AppState(Arc::new(Shared {
            app,
            whatsapp,
            metrics,
            control_token_sha256,
            tls: None,
            links_base,
            rate_limiter,
            ready: AtomicBool::new(true),
        }))
    }

    /// With the state of the HTTPS the binary serves itself (for the admin's checklist).
    pub fn with_tls(mut self, tls: Option<Arc<crate::tls::TlsStatus>>) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_tls is called while building the state, before it is shared")
            .tls = tls;
        self
    }

    /// Links point at `local` (the bound address) when no `server.public_base_url` is set.
    pub fn with_local_address(mut self, local: std::net::SocketAddr) -> Self {
        if self.app.settings.public_base_url.is_none() {
            Arc::get_mut(&mut self.0)
                .expect(
                    "with_local_address is called while building the state, before it is shared",
                )
                .links_base = crate::control::local_url(local).into();
        }
        self
    }

    /// Readiness turns off when shutdown begins, so a load balancer stops sending work.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "alojamientos", description = "Booking appliance for small accommodation hosts"),
    modifiers(&BearerAuth),
    tags((name = "public"), (name = "admin"), (name = "webhooks"), (name = "ops"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Routes limited per client: everything a stranger can call, and login.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalog::list_accommodations))
        .routes(routes!(catalog::quote_stay))
        .routes(routes!(catalog::availability))
        .routes(routes!(reservations::reserve))
        .routes(routes!(reservations::pre_reserve))
        .routes(routes!(reservations::get_reservation))
        .routes(routes!(reservations::cancel_reservation))
        .routes(routes!(payments::guest_payment_link))
        .routes(routes!(session::login))
        .routes(routes!(session::create_session))
        .routes(routes!(calendar::export))
}

/// Routes that need an admin session.
fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::logout))
        .routes(routes!(session::change_password))
        .routes(routes!(session::current_session, session::delete_session))
        .routes(routes!(
            accommodations::list_accommodations,
            accommodations::create_accommodation
        ))
        .routes(routes!(
            accommodations::update_accommodation,
            accommodations::patch_accommodation
        ))
        .routes(routes!(accommodations::deactivate_accommodation))
        .routes(routes!(accommodations::activate_accommodation))
        .routes(routes!(content::get_site, content::put_site))
        .routes(routes!(content::embed))
        .routes(routes!(content::get_content, content::put_content))
        .routes(routes!(content::upload_photo))
        .routes(routes!(content::change_photo, content::delete_photo))
        .routes(routes!(
            reservations::admin::list_reservations,
            reservations::admin::create_reservation
        ))
        .routes(routes!(reservations::admin::export_csv))
        .routes(routes!(reservations::admin::get_reservation))
        .routes(routes!(reservations::admin::confirm))
        .routes(routes!(reservations::admin::cancel))
        .routes(routes!(reservations::admin::no_show))
        .routes(routes!(reservations::admin::stats))
        .routes(routes!(holds::list_holds))
        .routes(routes!(holds::cancel_holds))
        .routes(routes!(blocks::list_blocks, blocks::create_block))
        .routes(routes!(blocks::delete_block))
        .routes(routes!(feeds::list_feeds, feeds::create_feed))
        .routes(routes!(
            feed_changes::update_feed,
            feed_changes::patch_feed,
            feeds::delete_feed
        ))
        .routes(routes!(feeds::sync_feed))
        .routes(routes!(
            export_settings::get_export,
            export_settings::update_export
        ))
        .routes(routes!(export_settings::rotate_export))
        .routes(routes!(feeds::list_imported))
        .routes(routes!(feeds::list_conflicts))
        .routes(routes!(payments::admin_payment_link))
        .routes(routes!(payments::list_payments))
        .routes(routes!(payments::reservation_payments))
        .routes(routes!(payments::outbox))
        .routes(routes!(backups::take_backup, backups::list_backups))
        .routes(routes!(decode_errors::decode_errors))
        .routes(routes!(nlu::analyze_text))
        .routes(routes!(setup::checklist))
        .routes(routes!(whatsapp::outbox))
        .routes(routes!(whatsapp::resume))
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(conversations::get_conversation))
        .routes(routes!(conversations::take_over))
}

/// Provider notifications: signed, not limited per client (providers retry what we refuse).
fn webhook_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::mercadopago))
        .routes(routes!(whatsapp::verify, whatsapp::events))
        .route(
            webhooks::ORIGINAL_PATH,
            axum::routing::post(webhooks::mercadopago),
        )
}

/// Health and readiness (metrics and the OpenAPI document are plain routes).
fn ops_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// The OpenAPI document of every route, generated from the same routers that serve them.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(public_routes())
        .merge(admin_routes())
        .merge(webhook_routes())
        .merge(ops_routes())
        .into_openapi()
}

async fn fallback(method: Method) -> ApiError {
    if method == Method::GET || method == Method::HEAD {
        ApiError::not_found("not_found", "no such route")
    } else {
        ApiError::not_found("not_found", "no such route or method")
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

/// The whole application router. `/metrics` is served here unless `metrics.listen` gives it
/// an address of its own.
pub fn router(state: AppState) -> Router {
    let limited = Router::from(public_routes()).route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        rate_limit::limit,
    ));
    let (site_pages, site_files) = site::routes(&state).unzip();
    // A layer on an empty router panics: with the site off there are no pages to limit.
    let limited = match site_pages {
        Some(pages) => limited.merge(pages.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))),
        None => limited,
    };
    let doc = serde_json::to_string(&openapi()).expect("the OpenAPI document serializes");
    let mut router = Router::new()
        .merge(limited)
        .merge(Router::from(admin_routes()))
        .merge(Router::from(webhook_routes()))
        .merge(Router::from(ops_routes()))
        .merge(admin_ui::routes())
        .merge(site_files.unwrap_or_default())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        );
    if state.app.settings.metrics_listen.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    router
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.app.settings.body_limit_bytes))
        .layer(axum::middleware::from_fn({
            let limit = state.app.settings.connections.body_read_timeout;
            move |req, next| body_deadline::limit_body_time(limit, req, next)
        }))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(admin_ui::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.app.settings.log_slow_request,
            middleware::observe,
        ))
        .with_state(state)
}

/// A handler that panicked answers 500 `internal` as JSON (and the panic is logged); the
/// connection and the server go on.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a request handler panicked");
    axum::response::IntoResponse::into_response(ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; it has been logged",
    ))
}

/// The router with only the metrics endpoint, for `metrics.listen`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.app.settings.log_slow_request,
            middleware::observe,
        ))
        .with_state(state)
}
