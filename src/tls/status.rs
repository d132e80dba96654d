//! What HTTPS is doing, for the admin's first-run checklist: where the certificate comes
//! from, until when it is valid, and the last renewal error.

use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A snapshot of the HTTPS state.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TlsView {
    /// `acme` or `files`.
    pub mode: String,
    /// Names the ACME certificate is for (empty for files).
    pub domains: Vec<String>,
    /// Expiry of the certificate served; none yet (waiting for the first ACME order).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_after: Option<Timestamp>,
    /// The last failed order or reload, cleared by the next success.
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_error_at: Option<Timestamp>,
}

/// Shared between the renewal task (writer) and the handlers (readers).
#[derive(Debug, Default)]
pub struct TlsStatus(Mutex<TlsView>);

impl TlsStatus {
    pub fn new(mode: &str, domains: Vec<String>) -> TlsStatus {
        TlsStatus(Mutex::new(TlsView {
            mode: mode.into(),
            domains,
            ..TlsView::default()
        }))
    }

    pub fn view(&self) -> TlsView {
        self.0.lock().expect("tls status lock").clone()
    }

    pub fn served(&self, not_after: Timestamp) {
        let mut v = self.0.lock().expect("tls status lock");
        v.not_after = Some(not_after);
        v.last_error = None;
        v.last_error_at = None;
    }

    pub fn failed(&self, error: String) {
        let mut v = self.0.lock().expect("tls status lock");
        v.last_error = Some(error);
        v.last_error_at = Some(Timestamp::now());
    }
}
