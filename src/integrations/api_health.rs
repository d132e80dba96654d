//! What health knows of a provider's API without calling it: the latest successful and failed
//! calls, recorded by the clients (Mercado Pago) and senders (WhatsApp) as they go.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What health shows about the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiStatus {
    NotConfigured,
    Configured,
    /// The latest call failed, recently.
    Failing,
}

/// How long a failed call keeps health at `failing` when nothing succeeded since.
const FAILING_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Latest successful and failed calls, shared with health (which never calls the API).
#[derive(Debug, Default)]
pub struct ApiHealth {
    last: Mutex<(Option<Instant>, Option<Instant>)>,
}

impl ApiHealth {
    /// Notes the outcome of one call.
    pub fn record(&self, ok: bool) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            last.0 = Some(Instant::now());
        } else {
            last.1 = Some(Instant::now());
        }
    }

    /// `failing` when the latest call failed within the last 15 minutes.
    pub fn status(&self) -> ApiStatus {
        let (ok, failed) = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        match failed {
            Some(f) if ok.is_none_or(|o| f > o) && f.elapsed() < FAILING_WINDOW => {
                ApiStatus::Failing
            }
            _ => ApiStatus::Configured,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_fails_only_while_the_latest_call_failed() {
        let h = ApiHealth::default();
        assert_eq!(h.status(), ApiStatus::Configured);
        h.record(false);
        assert_eq!(h.status(), ApiStatus::Failing);
        h.record(true);
        assert_eq!(h.status(), ApiStatus::Configured);
    }
}
