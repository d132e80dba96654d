//! Health policy for every subsystem: the store and its records, the writer's queue, the
//! scheduler, the disk, iCal sync, Mercado Pago, backups, WhatsApp and the outboxes; each
//! check's level and how they combine. Health never calls a provider: it reads what the services recorded.

use std::time::Instant;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::App;
use super::ical::oldest_age;
use super::jobs::{self, EXPIRE_HOLDS};
use crate::integrations::api_health::ApiStatus;

/// `ok`, `degraded` or `unhealthy`, worst first when combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Degraded,
    Unhealthy,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseCheck {
    status: Level,
    latency_ms: f64,
    /// Writes are refused because the disk is full (below `server.min_free_mb`).
    storage_full: bool,
}

/// Stored records that do not decode: each is skipped by lists, jobs and workers (which go
/// on), and listed at `GET /api/v1/admin/store/decode-errors`; degraded while there is one.
#[derive(Serialize, ToSchema)]
pub struct RecordsCheck {
    status: Level,
    /// Records met since the start that do not decode.
    unreadable: usize,
}

#[derive(Serialize, ToSchema)]
pub struct LocksCheck {
    status: Level,
    /// Writes queued for or inside the store writer.
    held: usize,
}

#[derive(Serialize, ToSchema)]
pub struct SchedulerCheck {
    status: Level,
    /// Last run of the hold-expiry job.
    #[schema(value_type = Option<String>, format = DateTime)]
    last_run: Option<Timestamp>,
}

#[derive(Serialize, ToSchema)]
pub struct DiskCheck {
    status: Level,
    free_percent: f64,
}

/// Mercado Pago, from recent API results (health never calls the API).
#[derive(Serialize, ToSchema)]
pub struct MercadoPagoCheck {
    /// `not_configured` (no access token), `configured`, or `failing` (latest call failed).
    status: ApiStatus,
    /// `configured`, or `not_configured`: no webhook secret, every notification is refused.
    webhook: &'static str,
    /// Notifications recorded but not yet processed.
    pending_notifications: u64,
}

#[derive(Serialize, ToSchema)]
pub struct IcalCheck {
    status: Level,
    /// Minutes since the stalest enabled feed last synced; null without enabled feeds.
    age_minutes: Option<f64>,
    /// Enabled feeds whose last attempt failed.
    failing: usize,
}

/// Store snapshots: degraded when the newest is older than `backup.stale_after`.
#[derive(Serialize, ToSchema)]
pub struct BackupCheck {
    status: Level,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_success: Option<Timestamp>,
    /// Hours since the newest snapshot; null before the first.
    age_hours: Option<f64>,
}

fn check_backup(app: &App) -> BackupCheck {
    let last = app.backups.last_success();
    BackupCheck {
        status: if app.backups.is_stale() {
            Level::Degraded
        } else {
            Level::Ok
        },
        last_success: last,
        age_hours: last.map(|t| {
            let secs = Timestamp::now().duration_since(t).as_secs_f64();
            (secs / 3600.0 * 10.0).round() / 10.0
        }),
    }
}

/// The WhatsApp channel, from recent Graph API sends (health never calls the API).
#[derive(Serialize, ToSchema)]
pub struct WhatsAppCheck {
    /// `not_configured` (no phone number id or token), `configured`, or `failing`.
    status: ApiStatus,
    /// `configured`, or `not_configured`: no app secret, every event is refused.
    webhook: &'static str,
    /// Guest messages recorded but not yet answered.
    pending_messages: u64,
}

/// Messages waiting to be sent over WhatsApp and by email.
#[derive(Serialize, ToSchema)]
pub struct OutboxCheck {
    status: Level,
    /// Both channels together.
    pending: u64,
    whatsapp_pending: u64,
    email_pending: u64,
    /// Age of the oldest pending message in seconds; null when none waits.
    oldest_age_s: Option<u64>,
}

/// A pending message older than this degrades health (the API is down or refusing).
const OUTBOX_DEGRADED_S: u64 = 300;

fn whatsapp_checks(app: &App) -> (Level, WhatsAppCheck, OutboxCheck) {
    let status = app.whatsapp_status();
    let webhook_ok = app.settings.whatsapp.app_secret.is_some();
    let (wa_pending, wa_oldest) = app.store.outbound_backlog().unwrap_or((0, None));
    let (email_pending, email_oldest) = app.store.email_backlog().unwrap_or((0, None));
    metrics::gauge!("outbox_pending", "channel" => "whatsapp").set(wa_pending as f64);
    metrics::gauge!("outbox_pending", "channel" => "email").set(email_pending as f64);
    let oldest = wa_oldest.into_iter().chain(email_oldest).min();
    let oldest_age_s = oldest.map(|t| Timestamp::now().duration_since(t).as_secs().max(0) as u64);
    let outbox_level = if oldest_age_s.is_some_and(|a| a >= OUTBOX_DEGRADED_S) {
        Level::Degraded
    } else {
        Level::Ok
    };
    let level = match status {
        ApiStatus::Failing => Level::Degraded,
        ApiStatus::Configured if !webhook_ok => Level::Degraded,
        _ => Level::Ok,
    };
    let whatsapp = WhatsAppCheck {
        status,
        webhook: if webhook_ok {
            "configured"
        } else {
            "not_configured"
        },
        pending_messages: app.store.whatsapp_inbox_len().unwrap_or(0),
    };
    let outbox = OutboxCheck {
        status: outbox_level,
        pending: wa_pending + email_pending,
        whatsapp_pending: wa_pending,
        email_pending,
        oldest_age_s,
    };
    (level.max(outbox_level), whatsapp, outbox)
}

#[derive(Serialize, ToSchema)]
pub struct Checks {
    database: DatabaseCheck,
    records: RecordsCheck,
    locks: LocksCheck,
    scheduler: SchedulerCheck,
    disk: DiskCheck,
    ical_sync: IcalCheck,
    mercadopago: MercadoPagoCheck,
    backup: BackupCheck,
    whatsapp: WhatsAppCheck,
    outbox: OutboxCheck,
}

fn check_ical(app: &App) -> IcalCheck {
    let Ok(feeds) = app.store.feeds(None) else {
        return IcalCheck {
            status: Level::Degraded,
            age_minutes: None,
            failing: 0,
        };
    };
    let age = oldest_age(&feeds, Timestamp::now());
    let (degraded, unhealthy) = app.ical.staleness_limits();
    IcalCheck {
        status: match age {
            Some(a) if a >= unhealthy => Level::Unhealthy,
            Some(a) if a >= degraded => Level::Degraded,
            _ => Level::Ok,
        },
        age_minutes: age.map(|a| (a.as_secs_f64() / 60.0 * 10.0).round() / 10.0),
        failing: feeds
            .iter()
            .filter(|f| f.spec.enabled && f.state.last_error.is_some())
            .count(),
    }
}

/// Payments degrade health when the API is failing, or when links are made (access token)
/// but notifications are refused (no webhook secret).
fn mercadopago_check(app: &App) -> (Level, MercadoPagoCheck) {
    let status = app.payments.api_status();
    let webhook_ok = app.settings.mercadopago.webhook_secret.is_some();
    let level = match status {
        ApiStatus::Failing => Level::Degraded,
        ApiStatus::Configured if !webhook_ok => Level::Degraded,
        _ => Level::Ok,
    };
    let check = MercadoPagoCheck {
        status,
        webhook: if webhook_ok {
            "configured"
        } else {
            "not_configured"
        },
        pending_notifications: app.store.inbox_len().unwrap_or(0),
    };
    (level, check)
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: &'static str,
    version: &'static str,
    uptime_s: u64,
    checks: Checks,
}

/// Locks held beyond this many mean the writer is falling behind.
const LOCKS_DEGRADED: usize = 1_000;

/// Free space on the file system holding `path`, in percent.
fn free_percent(path: &std::path::Path) -> Option<f64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    if rc != 0 || stat.f_blocks == 0 {
        return None;
    }
    Some((stat.f_bavail as f64 / stat.f_blocks as f64 * 1000.0).round() / 10.0)
}

/// Checks every subsystem and combines the results (worst first).
pub fn check(app: &App) -> Health {
    let started = Instant::now();
    let storage_full = app.store.is_storage_full();
    let db_ok = app.store.read(|_| Ok(())).is_ok() && app.store.is_writable() && !storage_full;
    let latency_ms = (started.elapsed().as_secs_f64() * 1e5).round() / 100.0;
    let database = DatabaseCheck {
        status: if db_ok { Level::Ok } else { Level::Unhealthy },
        latency_ms,
        storage_full,
    };
    let unreadable = app.store.unreadable_count();
    let records = RecordsCheck {
        status: if unreadable == 0 {
            Level::Ok
        } else {
            Level::Degraded
        },
        unreadable,
    };
    let held = app.store.locks_held();
    metrics::gauge!("locks_held").set(held as f64);
    let locks = LocksCheck {
        status: if held < LOCKS_DEGRADED {
            Level::Ok
        } else {
            Level::Degraded
        },
        held,
    };
    let fresh = jobs::is_fresh(&app.jobs, app.started, app.settings.stale_after);
    let scheduler = SchedulerCheck {
        status: if fresh { Level::Ok } else { Level::Degraded },
        last_run: app
            .jobs
            .snapshot()
            .get(EXPIRE_HOLDS)
            .and_then(|r| r.last_run),
    };
    let free = free_percent(&app.settings.data_dir).unwrap_or(100.0);
    let disk = DiskCheck {
        status: if free < app.settings.disk_unhealthy_percent {
            Level::Unhealthy
        } else if free < app.settings.disk_degraded_percent {
            Level::Degraded
        } else {
            Level::Ok
        },
        free_percent: free,
    };
    let ical_sync = check_ical(app);
    let (payments_level, mercadopago) = mercadopago_check(app);
    let backup = check_backup(app);
    let (whatsapp_level, whatsapp, outbox) = whatsapp_checks(app);
    let worst = [
        database.status,
        records.status,
        locks.status,
        scheduler.status,
        disk.status,
        ical_sync.status,
        payments_level,
        backup.status,
        whatsapp_level,
    ]
    .into_iter()
    .max()
    .unwrap_or(Level::Ok);
    Health {
        status: match worst {
            Level::Ok => "healthy",
            Level::Degraded => "degraded",
            Level::Unhealthy => "unhealthy",
        },
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: app.started.elapsed().as_secs(),
        checks: Checks {
            database,
            records,
            locks,
            scheduler,
            disk,
            ical_sync,
            mercadopago,
            backup,
            whatsapp,
            outbox,
        },
    }
}

/// Sets `health_check_status{check}`, `disk_free_percent`, `reservations_holds_live` and the
/// store's gauges (`store_storage_full` among them) for a scrape.
pub fn record(app: &App) {
    let health = check(app);
    let c = &health.checks;
    for (check, level) in [
        ("database", c.database.status),
        ("records", c.records.status),
        ("locks", c.locks.status),
        ("scheduler", c.scheduler.status),
        ("disk", c.disk.status),
        ("ical_sync", c.ical_sync.status),
        ("backup", c.backup.status),
    ] {
        metrics::gauge!("health_check_status", "check" => check).set(level as u8 as f64);
    }
    metrics::gauge!("disk_free_percent").set(c.disk.free_percent);
    metrics::gauge!("store_storage_full").set(if c.database.storage_full { 1.0 } else { 0.0 });
    if let Ok(holds) = app.store.live_holds() {
        metrics::gauge!("reservations_holds_live").set(holds as f64);
    }
    metrics::gauge!("store_file_size_bytes").set(app.store.file_size() as f64);
    metrics::gauge!("store_archive_file_size_bytes").set(app.store.archive_file_size() as f64);
    metrics::gauge!("locks_held").set(app.store.locks_held() as f64);
    let _ = app.ical.record_staleness();
}
