//! The admin's first-run checklist: what is still missing before the appliance takes real
//! bookings (property, HTTPS, Mercado Pago, WhatsApp, email, off-site backups), with the
//! config keys to set and the webhook URLs to paste into each provider's panel. URLs come from
//! `server.public_base_url` (or the ACME domain), never from the request.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::ErrorBody;
use crate::config::{CertSource, Settings, WEBHOOK_PATH};
use crate::tls::TlsView;

/// `property.name` until the host changes it.
const DEFAULT_PROPERTY_NAME: &str = "Mi alojamiento";
const WHATSAPP_WEBHOOK_PATH: &str = "/api/v1/webhooks/whatsapp";

/// One thing to set up.
#[derive(Serialize, ToSchema)]
pub struct SetupItem {
    /// `property`, `https`, `mercadopago`, `whatsapp`, `email` or `offsite_backups`.
    id: &'static str,
    done: bool,
    /// Config keys still to set (`section.key`; in the environment
    /// `ALOJAMIENTOS_SECTION__KEY`).
    missing: Vec<&'static str>,
    /// The URL to paste into the provider's panel (none until the public address is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<String>,
}

/// How HTTPS reaches guests.
#[derive(Serialize, ToSchema)]
pub struct HttpsView {
    /// `acme` (automatic certificates), `files`, `proxy` (a reverse proxy in front, per
    /// `server.trusted_proxies`) or `off`.
    mode: &'static str,
    /// The certificate this server serves itself (`acme`, `files`).
    certificate: Option<TlsView>,
}

/// The checklist.
#[derive(Serialize, ToSchema)]
pub struct SetupView {
    /// Every item done.
    complete: bool,
    /// Where guests and providers reach this server.
    public_base_url: Option<String>,
    property_name: String,
    time_zone: String,
    https: HttpsView,
    items: Vec<SetupItem>,
}

/// An item whose config keys still unset are the `Some` ones of `missing`.
fn item(id: &'static str, missing: impl IntoIterator<Item = Option<&'static str>>) -> SetupItem {
    let missing: Vec<&'static str> = missing.into_iter().flatten().collect();
    SetupItem {
        id,
        done: missing.is_empty(),
        missing,
        webhook_url: None,
    }
}

fn unset<T>(key: &'static str, value: &Option<T>) -> Option<&'static str> {
    value.is_none().then_some(key)
}

fn https(state: &AppState) -> (HttpsView, SetupItem) {
    let s = &state.app.settings;
    let base_is_https = s
        .public_base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let certificate = state.tls.as_ref().map(|t| t.view());
    let (mode, done) = match (&s.tls.source, &certificate) {
        (Some(source), Some(view)) => {
            let valid = view.not_after.is_some_and(|t| t > Timestamp::now());
            let mode = match source {
                CertSource::Acme(_) => "acme",
                CertSource::Files { .. } => "files",
            };
            (mode, valid)
        }
        _ if base_is_https && !s.trusted_proxies.is_empty() => ("proxy", true),
        _ => ("off", false),
    };
    let mut item = item(
        "https",
        [
            (mode == "off").then_some("server.tls.acme_domains"),
            (!base_is_https && mode != "off").then_some("server.public_base_url"),
        ],
    );
    item.done = done;
    (HttpsView { mode, certificate }, item)
}

fn webhook(s: &Settings, path: &str) -> Option<String> {
    s.public_base_url
        .as_ref()
        .map(|base| format!("{base}{path}"))
}

/// What is still missing before taking real bookings, with the webhook URLs to paste.
#[utoipa::path(get, path = "/api/v1/admin/setup", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SetupView), (status = 401, body = ErrorBody)))]
pub async fn checklist(State(state): State<AppState>, _admin: AdminAuth) -> Json<SetupView> {
    let s = &state.app.settings;
    let (https_view, https_item) = https(&state);
    let base_missing = s
        .public_base_url
        .is_none()
        .then_some("server.public_base_url");
    let mp = &s.mercadopago;
    let mut mercadopago = item(
        "mercadopago",
        [
            unset("mercadopago.access_token", &mp.access_token),
            unset("mercadopago.webhook_secret", &mp.webhook_secret),
            base_missing,
        ],
    );
    mercadopago.webhook_url = webhook(s, WEBHOOK_PATH);
    let wa = &s.whatsapp;
    let mut whatsapp = item(
        "whatsapp",
        [
            unset("whatsapp.phone_number_id", &wa.phone_number_id),
            unset("whatsapp.access_token", &wa.access_token),
            unset("whatsapp.app_secret", &wa.app_secret),
            unset("whatsapp.verify_token", &wa.verify_token),
            base_missing,
        ],
    );
    whatsapp.webhook_url = webhook(s, WHATSAPP_WEBHOOK_PATH);
    let email = item(
        "email",
        [
            unset("email.smtp_host", &s.email.smtp),
            unset("email.host_address", &s.email.host_address),
        ],
    );
    let items = vec![
        item(
            "property",
            [(s.property_name == DEFAULT_PROPERTY_NAME).then_some("property.name")],
        ),
        https_item,
        mercadopago,
        whatsapp,
        email,
        item(
            "offsite_backups",
            [unset("backup.offsite", &s.backup.offsite)],
        ),
    ];
    Json(SetupView {
        complete: items.iter().all(|i| i.done),
        public_base_url: s.public_base_url.clone(),
        property_name: s.property_name.clone(),
        time_zone: s.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        https: https_view,
        items,
    })
}
