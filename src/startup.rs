//! Builds the application from settings: opens the store, creates the first admin, seeds the
//! demo, starts the jobs and binds the listeners (port 0 in tests). `run` serves until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_cron_scheduler::JobScheduler;

use crate::backups::Backups;
use crate::config::Settings;
use crate::domain::accommodation::{AccommodationInput, Kind};
use crate::domain::money::Money;
use crate::email::Email;
use crate::http::{self, AppState, OpsState, Services};
use crate::integrations::ical::IcalSync;
use crate::jobs::{self, JobStatus};
use crate::payments::Payments;
use crate::secret::{hash_password, random_hex, sha256_hex};
use crate::store::{AdminUser, Store, StoreError};
use crate::whatsapp::WhatsApp;

/// The first admin's credentials, created on a store that has none.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub email: String,
    pub password: String,
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    scheduler: JobScheduler,
    payments_worker: tokio::task::JoinHandle<()>,
    whatsapp_worker: tokio::task::JoinHandle<()>,
    /// Runs when SMTP is configured.
    email_worker: Option<tokio::task::JoinHandle<()>>,
    writer: std::thread::JoinHandle<()>,
    /// Set when this start created the first admin: print it once.
    pub first_admin: Option<FirstAdmin>,
}

impl Application {
    /// Opens everything; with `demo`, seeds three demo accommodations into an empty store.
    pub async fn build(settings: Settings, demo: bool) -> anyhow::Result<Application> {
        let settings = Arc::new(settings);
        let (store, writer) = Store::open(
            &settings.data_dir,
            settings.lock_timeout,
            settings.cache_bytes,
        )?;
        store.set_quick_repair(settings.quick_repair);
        let first_admin = create_first_admin(&store, &settings.initial_admin_email).await?;
        if demo {
            seed_demo(&store).await?;
        }
        let listener = match crate::systemd::take_listener()
            .context("taking the listening socket passed by systemd")?
        {
            Some(socket) => TcpListener::from_std(socket)?,
            None => TcpListener::bind(settings.listen)
                .await
                .with_context(|| format!("cannot listen on {} (server.listen)", settings.listen))?,
        };
        let metrics_listener = match settings.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (metrics.listen)"))?,
            ),
            None => None,
        };
        let job_status = Arc::new(JobStatus::default());
        let metrics = crate::telemetry::metrics_handle();
        let ical = Arc::new(IcalSync::new(store.clone(), &settings));
        IcalSync::register_metrics();
        crate::telemetry::init_series();
        let scheduler = jobs::start(store.clone(), settings.clone(), job_status.clone())
            .await
            .context("starting the job scheduler")?;
        let sync = ical.clone();
        jobs::add(
            &scheduler,
            "ical_sync",
            &settings.ical.check_schedule,
            job_status.clone(),
            move || {
                let sync = sync.clone();
                Box::pin(async move {
                    let ran = sync.sync_due().await?;
                    Ok(format!("{ran} feeds synced"))
                })
            },
        )
        .await
        .context("scheduling iCal sync")?;
        let payments = Payments::new(store.clone(), settings.clone());
        if payments.is_configured() {
            let p = payments.clone();
            jobs::add(
                &scheduler,
                "reconcile_payments",
                &settings.mercadopago.reconcile,
                job_status.clone(),
                move || {
                    let p = p.clone();
                    Box::pin(async move { p.reconcile().await })
                },
            )
            .await
            .context("scheduling payment reconciliation")?;
        }
        let backups = Backups::new(store.clone(), &settings);
        let b = backups.clone();
        jobs::add(
            &scheduler,
            "backup",
            &settings.backup.schedule,
            job_status.clone(),
            move || {
                let b = b.clone();
                Box::pin(async move {
                    let info = b
                        .take()
                        .await
                        .map_err(|e| StoreError::Backup(e.to_string()))?;
                    Ok(format!("snapshot {}", info.path.display()))
                })
            },
        )
        .await
        .context("scheduling backups")?;
        let payments_worker = payments.start_worker();
        let control = crate::control::write(&settings.data_dir, listener.local_addr()?)
            .context("writing the control file in the data directory")?;
        let whatsapp = WhatsApp::new(store.clone(), settings.clone(), payments.clone());
        let whatsapp_worker = whatsapp.start_worker();
        let email_worker = Email::start(store.clone(), settings.clone())
            .await
            .context("starting the email channel")?;
        let state = AppState::new(
            store,
            settings,
            metrics,
            job_status,
            Services {
                ical,
                payments,
                ops: OpsState {
                    backups,
                    control_token_sha256: sha256_hex(&control.token).into(),
                },
                whatsapp,
            },
        );
        Ok(Application {
            listener,
            metrics_listener,
            state,
            scheduler,
            payments_worker,
            whatsapp_worker,
            email_worker,
            writer,
            first_admin,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then stops taking requests, drains in-flight ones
    /// (up to `server.shutdown_grace`), stops the jobs and closes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            metrics_listener,
            state,
            mut scheduler,
            payments_worker,
            whatsapp_worker,
            email_worker,
            writer,
            ..
        } = self;
        let grace = state.settings.shutdown_grace;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        if let Some(ml) = metrics_listener {
            let router = http::metrics_router(state.clone());
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                let _ = axum::serve(ml, router.into_make_service())
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|s| *s).await;
                    })
                    .await;
            });
        }
        let app = http::router(state.clone());
        let ready_state = state.clone();
        tracing::info!(addr = %listener.local_addr()?, "serving");
        let mut rx = stop_rx;
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.wait_for(|s| *s).await;
        });
        let server = tokio::spawn(async move { server.await });
        let upkeep = crate::telemetry::spawn_upkeep(state.metrics.clone());
        crate::systemd::notify("READY=1");
        let watchdog = crate::systemd::watchdog_interval()
            .map(|every| tokio::spawn(watchdog(state.clone(), every)));
        shutdown.await;
        crate::systemd::notify("STOPPING=1");
        if let Some(w) = watchdog {
            w.abort();
        }
        upkeep.abort();
        tracing::info!("shutting down: draining in-flight requests");
        ready_state.set_ready(false);
        let _ = stop_tx.send(true);
        match tokio::time::timeout(grace, server).await {
            Ok(result) => result??,
            Err(_) => {
                tracing::warn!("in-flight requests did not finish within server.shutdown_grace")
            }
        }
        if let Err(e) = scheduler.shutdown().await {
            tracing::warn!(error = %e, "job scheduler did not stop cleanly");
        }
        payments_worker.abort();
        let _ = payments_worker.await;
        whatsapp_worker.abort();
        let _ = whatsapp_worker.await;
        if let Some(worker) = email_worker {
            worker.abort();
            let _ = worker.await;
        }
        state.store.close().await;
        crate::control::remove(&state.settings.data_dir);
        let joined = tokio::task::spawn_blocking(move || writer.join());
        if tokio::time::timeout(Duration::from_secs(10), joined)
            .await
            .is_err()
        {
            tracing::warn!("store writer did not stop within 10 s");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Pings systemd's watchdog every `every` while the store answers a read and commits a write
/// and the hold-expiry job keeps running; when either stops, the pings stop and systemd
/// restarts the service after `WatchdogSec`.
async fn watchdog(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store_ok = state.store.ping(every).await;
        let scheduler_ok = jobs::is_fresh(&state.jobs, state.started, state.settings.stale_after);
        if store_ok && scheduler_ok {
            crate::systemd::notify("WATCHDOG=1");
        } else {
            tracing::error!(store_ok, scheduler_ok, "not pinging the systemd watchdog");
        }
    }
}

async fn create_first_admin(store: &Store, email: &str) -> anyhow::Result<Option<FirstAdmin>> {
    if store.has_admins()? {
        return Ok(None);
    }
    let password = random_hex(12);
    let hash = tokio::task::spawn_blocking({
        let password = password.clone();
        move || hash_password(&password)
    })
    .await?;
    let user = AdminUser {
        email: email.to_lowercase(),
        password_hash: hash,
        created_at: jiff::Timestamp::now(),
    };
    let created = store.create_first_admin(user).await?;
    Ok(created.then(|| FirstAdmin {
        email: email.to_lowercase(),
        password,
    }))
}

async fn seed_demo(store: &Store) -> anyhow::Result<()> {
    if !store.accommodations()?.is_empty() {
        return Ok(());
    }
    let demo = [
        (
            "Cabaña del Bosque",
            Kind::Cabin,
            4,
            45_000,
            "Cabaña de madera entre los coihues, con hogar a leña.",
        ),
        (
            "Cabaña del Lago",
            Kind::Cabin,
            6,
            60_000,
            "Vista al lago, deck y parrilla.",
        ),
        (
            "Departamento Centro",
            Kind::Apartment,
            2,
            30_000,
            "A dos cuadras de la avenida principal.",
        ),
    ];
    for (name, kind, capacity, price, description) in demo {
        let spec = AccommodationInput {
            name: name.into(),
            kind,
            capacity,
            base_price: Money::from_units(price),
            weekend_multiplier: None,
            weekend_nights: None,
            min_stay: Some(2),
            seasons: vec![],
            active: None,
            description: Some(description.into()),
        }
        .validate()?;
        store.create_accommodation(spec).await?;
    }
    tracing::info!("seeded three demo accommodations");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
