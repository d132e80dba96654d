//! Builds the application from settings: opens the store, creates the first admin, seeds the
//! demo, binds the listeners (port 0 in tests), starts the jobs and the workers. `run` serves
//! until shutdown, then drains and stops in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::app::ical::IcalSync;
use crate::app::jobs;
use crate::background::{self, Priority};
use crate::channels::email::Email;
use crate::channels::whatsapp::WhatsApp;
use crate::config::Settings;
use crate::connections::{self, Admission, Connections};
use crate::domain::accommodation::{AccommodationInput, Kind};
use crate::domain::money::Money;
use crate::http::{self, AppState};
use crate::secret::{hash_password, random_hex, sha256_hex};
use crate::store::{AdminUser, Store};
use crate::telemetry;

/// The first admin's credentials, created on a store that has none.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub email: String,
    pub password: String,
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    /// HTTPS and port 80, when `[server.tls]` has a certificate source.
    https: Option<crate::tls::Https>,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    scheduler: jobs::Scheduled,
    workers: Vec<JoinHandle<()>>,
    writer: std::thread::JoinHandle<()>,
    /// The start-up audit of the stored records (awaited at shutdown: it holds the store).
    audit: JoinHandle<()>,
    /// Set when this start created the first admin: print it once.
    pub first_admin: Option<FirstAdmin>,
}

impl Application {
    /// Opens everything; with `demo`, seeds three demo accommodations into an empty store.
    pub async fn build(settings: Settings, demo: bool) -> anyhow::Result<Application> {
        let settings = Arc::new(settings);
        // The recorder first: what the store counts while it opens is kept.
        let metrics = telemetry::metrics_handle();
        let (store, writer) = Store::open_for(
            &settings.data_dir,
            settings.lock_timeout,
            settings.cache_bytes,
            &settings.hold_limits,
        )?;
        store.set_min_free_bytes(settings.min_free_bytes);
        store.set_quick_repair(settings.quick_repair);
        let first_admin = create_first_admin(&store, &settings.initial_admin_email).await?;
        tokio::task::spawn_blocking(crate::domain::contact::load_phone_metadata);
        tokio::task::spawn_blocking(crate::secret::prepare_dummy_hash).await?;
        let app = App::new(store, settings.clone());
        if demo {
            seed_demo(&app).await?;
        }
        let mut sockets =
            crate::systemd::take_sockets().context("taking the sockets passed by systemd")?;
        crate::connections::fit_open_files(settings.connections.max_connections);
        let (listener, metrics_listener) = bind(&settings, sockets.main.take()).await?;
        let https = crate::tls::Https::bind(&settings, &app.store, &mut sockets).await?;
        register_series();
        let audit = audit_records(&app.store);
        let scheduler = jobs::start(&app)
            .await
            .context("starting the job scheduler")?;
        let (whatsapp, workers) = start_workers(&app).await?;
        let control = crate::control::write(&settings.data_dir, listener.local_addr()?)
            .context("writing the control file in the data directory")?;
        let control_token = sha256_hex(&control.token).into();
        let tls_status = https.as_ref().map(crate::tls::Https::status);
        let local = listener.local_addr()?;
        Ok(Application {
            listener,
            https,
            metrics_listener,
            state: AppState::new(app, whatsapp, metrics, control_token)
                .with_tls(tls_status)
                .with_local_address(local),
            scheduler,
            workers,
            writer,
            audit,
            first_admin,
        })
    }

    /// The data directory (where the first admin's password file goes).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.state.app.settings.data_dir.clone()
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
            https,
            metrics_listener,
            state,
            scheduler,
            workers,
            writer,
            audit,
            ..
        } = self;
        let grace = state.app.settings.shutdown_grace;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let settings = &state.app.settings;
        let connections = Connections::new(settings.connections, settings.trusted_proxies.clone());
        let metrics_server = metrics_listener.map(|ml| {
            let router = http::metrics_router(state.clone());
            tokio::spawn(connections::serve(
                ml,
                router,
                Admission::Here(connections.clone()),
                stop_rx.clone(),
            ))
        });
        let app = http::router(state.clone());
        crate::tls::ignore_hangup_unless_reloading(&state.app.settings);
        let public = https.map(|h| h.spawn(app.clone(), connections.clone(), stop_rx.clone()));
        let ready_state = state.clone();
        tracing::info!(addr = %listener.local_addr()?, "serving");
        let server = tokio::spawn(connections::serve(
            listener,
            app,
            Admission::Here(connections),
            stop_rx,
        ));
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
        let drained = async {
            let result = server.await;
            if let Some(public) = public {
                let _ = public.await;
            }
            if let Some(metrics) = metrics_server {
                let _ = metrics.await;
            }
            result
        };
        match tokio::time::timeout(grace, drained).await {
            Ok(result) => result?,
            Err(_) => {
                tracing::warn!("in-flight requests did not finish within server.shutdown_grace")
            }
        }
        scheduler.stop().await;
        for worker in workers {
            worker.abort();
            let _ = worker.await;
        }
        state.app.store.close().await;
        // The audit stops at its next transaction once the store is closing; until it has,
        // its handle on the store keeps redb from closing the file cleanly.
        if tokio::time::timeout(Duration::from_secs(5), audit)
            .await
            .is_err()
        {
            tracing::warn!("the start-up audit did not stop within 5 s");
        }
        crate::control::remove(&state.app.settings.data_dir);
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

/// Pings systemd's watchdog every `every` while the store answers a read and its writer
/// answers a write (committed, or refused at once because the disk is full: a restart would
/// not free space) and the scheduler keeps running the hold-expiry job (whatever each run's
/// outcome: a job failing on its data is health's business, a restart would not mend it); when
/// either stops, the pings stop and systemd restarts the service after `WatchdogSec`.
async fn watchdog(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let app = &state.app;
        let store_ok = app.store.ping(every).await;
        let scheduler_ok = jobs::is_running(&app.jobs, app.started, app.settings.stale_after);
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

/// Binds the API's listener (or takes the one systemd passed) and, with `metrics.listen`,
/// the metrics listener.
/// The main listener (systemd's socket, or `server.listen`) and the metrics one.
async fn bind(
    settings: &Settings,
    passed: Option<std::net::TcpListener>,
) -> anyhow::Result<(TcpListener, Option<TcpListener>)> {
    let listener = match passed {
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
    Ok((listener, metrics_listener))
}

/// Decodes every stored record once in the background, at the lowest priority (requests come
/// first), so one that no longer decodes shows in health and in the admin's list from the start.
/// First it checks the outboxes' pending counts against their messages (they drift only when
/// an older version wrote the store), so health and `outbox_pending` are exact from then on.
fn audit_records(store: &Store) -> JoinHandle<()> {
    let store = store.clone();
    tokio::spawn(async move {
        let reader = store.clone();
        let drift = background::run("outbox-recount", Priority::Lowest, move || {
            reader.outbox_count_drift()
        });
        match drift.await {
            Some(Ok(drifts)) if !drifts.is_empty() => {
                if let Err(e) = store.correct_outbox_counts(drifts).await {
                    tracing::warn!(error = %e, "cannot correct the outbox pending counts");
                }
            }
            Some(Err(e)) => tracing::error!(error = %e, "cannot count the outboxes' messages"),
            _ => {}
        }
        let started = std::time::Instant::now();
        let audited = background::run("store-audit", Priority::Lowest, move || {
            store.audit_records()
        });
        match audited.await {
            Some(Ok(read)) => {
                tracing::debug!(read, took = ?started.elapsed(), "stored records audited");
            }
            Some(Err(e)) => tracing::error!(error = %e, "cannot audit the stored records"),
            None => {}
        }
    })
}

/// Creates at zero the series dashboards and alerts read before anything happens.
fn register_series() {
    IcalSync::register_metrics();
    telemetry::init_series();
    telemetry::series::init();
}

/// Starts the workers: the payments inbox, the WhatsApp channel, and email when SMTP is
/// configured.
async fn start_workers(app: &App) -> anyhow::Result<(WhatsApp, Vec<JoinHandle<()>>)> {
    let whatsapp = WhatsApp::new(app.clone());
    let mut workers = vec![app.payments.start_worker(), whatsapp.start_worker()];
    workers.extend(
        Email::start(app.store.clone(), app.settings.clone())
            .await
            .context("starting the email channel")?,
    );
    Ok((whatsapp, workers))
}

async fn seed_demo(app: &App) -> anyhow::Result<()> {
    if !app.accommodations.all()?.is_empty() {
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
        app.accommodations.create(spec).await?;
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
