//! The application layer: each use case once, between the channels (HTTP, web UI, WhatsApp,
//! email) and the store. A channel parses its input into domain types, calls a service here,
//! and renders the answer; booking rules, metrics of the booking funnel, payment links, sync,
//! backups, health and the scheduled jobs live here and nowhere else.

pub mod accommodations;
pub mod archive;
pub mod backups;
pub mod booking;
pub mod health;
pub mod ical;
pub mod jobs;
pub mod logins;
pub mod notices;
pub mod payments;
pub mod site;

use std::sync::Arc;
use std::time::Instant;

use crate::config::Settings;
use crate::integrations::api_health::{ApiHealth, ApiStatus};
use crate::store::Store;
use accommodations::Accommodations;
use backups::Backups;
use booking::Booking;
use ical::IcalSync;
use jobs::JobStatus;
use logins::Logins;
use payments::Payments;
use site::Site;

/// Every service over one open store; what each channel is given. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub accommodations: Accommodations,
    pub booking: Booking,
    pub payments: Payments,
    /// Admin logins and password changes, a few argon2 runs at a time.
    pub logins: Logins,
    /// The guest site's content and photos (shared with the WhatsApp bot).
    pub site: Site,
    pub ical: Arc<IcalSync>,
    pub backups: Arc<Backups>,
    /// The scheduled jobs' last runs.
    pub jobs: Arc<JobStatus>,
    /// Recent Graph API sends, recorded by the WhatsApp channel for health.
    pub whatsapp_api: Arc<ApiHealth>,
    pub started: Instant,
}

impl App {
    /// The services over `store`.
    pub fn new(store: Store, settings: Arc<Settings>) -> App {
        let payments = Payments::new(store.clone(), settings.clone());
        App {
            accommodations: Accommodations::new(store.clone()),
            booking: Booking::new(store.clone(), settings.clone(), payments.clone()),
            ical: Arc::new(IcalSync::new(store.clone(), &settings)),
            logins: Logins::new(
                store.clone(),
                settings.login_concurrency,
                settings.login_wait,
            ),
            backups: Backups::new(store.clone(), &settings),
            site: Site::new(store.clone(), settings.clone()),
            payments,
            jobs: Arc::new(JobStatus::default()),
            whatsapp_api: Arc::new(ApiHealth::default()),
            started: Instant::now(),
            store,
            settings,
        }
    }

    /// The Graph API's status for health, from recent sends (never calls it).
    pub fn whatsapp_status(&self) -> ApiStatus {
        if crate::integrations::whatsapp::is_configured(&self.settings.whatsapp) {
            self.whatsapp_api.status()
        } else {
            ApiStatus::NotConfigured
        }
    }
}
