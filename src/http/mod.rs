//! The HTTP adapter: router, middleware stack and shared state.

mod admin;
mod admin_ui;
mod auth;
mod backups;
mod conversations;
mod error;
mod extract;
mod feeds;
mod health;
mod ical_export;
mod middleware;
mod nlu;
mod payments;
mod public;
mod rate_limit;
mod session;
mod views;
mod webhooks;
mod whatsapp;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

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

use crate::backups::Backups;
use crate::config::Settings;
use crate::integrations::ical::IcalSync;
use crate::jobs::JobStatus;
use crate::payments::Payments;
use crate::store::{ReservePolicy, Store};
use crate::whatsapp::WhatsApp;
use rate_limit::RateLimiter;

/// What the operator endpoints need: the backups and the control file's token.
#[derive(Clone)]
pub struct OpsState {
    pub backups: Arc<Backups>,
    /// SHA-256 of the control file's token, accepted by the operator endpoints.
    pub control_token_sha256: Arc<str>,
}

/// What every handler can reach. Cloned for every request (by the router and each `State`
/// extractor), so it is one shared allocation: a clone is one reference count.
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
    pub store: Store,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    pub started: Instant,
    pub jobs: Arc<JobStatus>,
    pub ical: Arc<IcalSync>,
    pub payments: Payments,
    pub ops: OpsState,
    pub whatsapp: WhatsApp,
    rate_limiter: Option<RateLimiter>,
    ready: AtomicBool,
}

/// The provider adapters and operations state handlers reach through [`AppState`].
pub struct Services {
    pub ical: Arc<IcalSync>,
    pub payments: Payments,
    pub ops: OpsState,
    pub whatsapp: WhatsApp,
}

impl AppState {
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        metrics: PrometheusHandle,
        jobs: Arc<JobStatus>,
        services: Services,
    ) -> Self {
        let Services {
            ical,
            payments,
            ops,
            whatsapp,
        } = services;
        let rate_limiter = settings.rate_limit.map(RateLimiter::new);
        AppState(Arc::new(Shared {
            store,
            settings,
            metrics,
            started: Instant::now(),
            jobs,
            ical,
            payments,
            ops,
            whatsapp,
            rate_limiter,
            ready: AtomicBool::new(true),
        }))
    }

    /// Readiness turns off when shutdown begins, so a load balancer stops sending work.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn reserve_policy(&self) -> ReservePolicy {
        crate::whatsapp::reserve_policy(&self.settings)
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
        .routes(routes!(public::list_accommodations))
        .routes(routes!(public::quote_stay))
        .routes(routes!(public::availability))
        .routes(routes!(public::reserve))
        .routes(routes!(public::pre_reserve))
        .routes(routes!(public::get_reservation))
        .routes(routes!(public::cancel_reservation))
        .routes(routes!(payments::guest_payment_link))
        .routes(routes!(admin::login))
        .routes(routes!(session::create_session))
        .routes(routes!(ical_export::export))
}

/// Routes that need an admin session.
fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::logout))
        .routes(routes!(session::current_session, session::delete_session))
        .routes(routes!(
            admin::list_accommodations,
            admin::create_accommodation
        ))
        .routes(routes!(admin::update_accommodation))
        .routes(routes!(admin::deactivate_accommodation))
        .routes(routes!(admin::activate_accommodation))
        .routes(routes!(admin::list_reservations, admin::create_reservation))
        .routes(routes!(admin::export_csv))
        .routes(routes!(admin::get_reservation))
        .routes(routes!(admin::confirm))
        .routes(routes!(admin::cancel))
        .routes(routes!(admin::no_show))
        .routes(routes!(admin::stats))
        .routes(routes!(admin::list_blocks, admin::create_block))
        .routes(routes!(admin::delete_block))
        .routes(routes!(feeds::list_feeds, feeds::create_feed))
        .routes(routes!(feeds::update_feed, feeds::delete_feed))
        .routes(routes!(feeds::sync_feed))
        .routes(routes!(feeds::get_export, feeds::update_export))
        .routes(routes!(feeds::rotate_export))
        .routes(routes!(feeds::list_imported))
        .routes(routes!(feeds::list_conflicts))
        .routes(routes!(payments::admin_payment_link))
        .routes(routes!(payments::list_payments))
        .routes(routes!(payments::reservation_payments))
        .routes(routes!(payments::outbox))
        .routes(routes!(backups::take_backup, backups::list_backups))
        .routes(routes!(nlu::analyze_text))
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
    let doc = serde_json::to_string(&openapi()).expect("the OpenAPI document serializes");
    let mut router = Router::new()
        .merge(limited)
        .merge(Router::from(admin_routes()))
        .merge(Router::from(webhook_routes()))
        .merge(Router::from(ops_routes()))
        .merge(admin_ui::routes())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        );
    if state.settings.metrics_listen.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    router
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.body_limit_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(admin_ui::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.log_slow_request,
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
            state.settings.log_slow_request,
            middleware::observe,
        ))
        .with_state(state)
}
