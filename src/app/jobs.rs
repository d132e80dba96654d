//! The scheduled jobs (tokio-cron-scheduler), all wired here: hold expiry, stay completion
//! (with the archive pass), purges, iCal sync, backups and payment reconciliation. Each run is
//! timed, counted and recorded for health; one that fails or panics is logged and counted, and
//! the server goes on.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use super::App;
use crate::store::StoreError;
use crate::store::backup::BackupError;

/// What health shows of one job.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct JobRecord {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_run: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub runs: u64,
}

/// The jobs' last runs, shared with health.
#[derive(Debug, Default)]
pub struct JobStatus {
    records: Mutex<BTreeMap<&'static str, JobRecord>>,
}

impl JobStatus {
    pub fn snapshot(&self) -> BTreeMap<&'static str, JobRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record(&self, job: &'static str, outcome: Result<(), String>) {
        let now = Timestamp::now();
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let r = records.entry(job).or_default();
        r.runs += 1;
        r.last_run = Some(now);
        match outcome {
            Ok(()) => {
                r.last_success = Some(now);
                r.last_error = None;
            }
            Err(e) => r.last_error = Some(e),
        }
    }
}

/// The job whose freshness decides the scheduler's health.
pub const EXPIRE_HOLDS: &str = "expire_holds";

/// Runs `work` as job `name`: in its own task (a panic stays there), timed, counted, recorded.
pub async fn run_job<F>(name: &'static str, status: &JobStatus, work: F)
where
    F: Future<Output = Result<String, JobError>> + Send + 'static,
{
    let started = Instant::now();
    let (label, outcome) = match tokio::spawn(work).await {
        Ok(Ok(summary)) => {
            tracing::debug!(job = name, %summary, "job done");
            ("ok", Ok(()))
        }
        Ok(Err(e)) => {
            tracing::warn!(job = name, error = %e, "job failed");
            ("error", Err(e.to_string()))
        }
        Err(join) => {
            tracing::error!(job = name, panic = join.is_panic(), "job panicked");
            ("panic", Err("panicked".to_owned()))
        }
    };
    metrics::counter!("job_runs_total", "job" => name, "outcome" => label).increment(1);
    metrics::histogram!("job_duration_seconds", "job" => name)
        .record(started.elapsed().as_secs_f64());
    if outcome.is_ok() {
        metrics::gauge!("job_last_success_timestamp_seconds", "job" => name)
            .set(Timestamp::now().as_second() as f64);
    }
    status.record(name, outcome);
}

/// Why one run of a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Archive(#[from] super::archive::ArchiveError),
}

/// One run of a job: a summary for the log, or why it failed.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<String, JobError>> + Send>>;

/// How long received WhatsApp message ids are kept to drop Meta's redeliveries.
const WHATSAPP_SEEN_TTL: Duration = Duration::from_secs(7 * 86_400);

async fn expire_holds(app: App) -> Result<String, JobError> {
    let expired = app.store.expire_lapsed_holds().await?;
    metrics::counter!("prereservations_expired_total").increment(expired.len() as u64);
    metrics::gauge!("store_file_size_bytes").set(app.store.file_size() as f64);
    Ok(format!("{} holds expired", expired.len()))
}

async fn complete_stays(app: App) -> Result<String, JobError> {
    let today = app.booking.today(Timestamp::now());
    let done = app.store.complete_past_stays(today).await?;
    let archived = super::archive::archive_closed(&app.store, Timestamp::now()).await?;
    Ok(format!(
        "{done} stays completed, {archived} closed reservations archived"
    ))
}

async fn purge(app: App) -> Result<String, JobError> {
    let keys = app
        .store
        .purge_idempotency(app.settings.idempotency_ttl)
        .await?;
    let sessions = app.store.purge_sessions().await?;
    let seen = app.store.purge_whatsapp_seen(WHATSAPP_SEEN_TTL).await?;
    Ok(format!(
        "{keys} idempotency keys, {sessions} sessions and {seen} WhatsApp message ids purged"
    ))
}

async fn ical_sync(app: App) -> Result<String, JobError> {
    let ran = app.ical.sync_due().await?;
    Ok(format!("{ran} feeds synced"))
}

async fn reconcile_payments(app: App) -> Result<String, JobError> {
    Ok(app.payments.reconcile().await?)
}

async fn backup(app: App) -> Result<String, JobError> {
    let info = app.backups.take().await?;
    Ok(format!("snapshot {}", info.path.display()))
}

/// What one run of a job does.
type Work = fn(App) -> JobFuture;

/// Every scheduled job: name, schedule (from the configuration) and what one run does.
/// Reconciliation runs only when Mercado Pago is configured.
fn jobs(app: &App) -> Vec<(&'static str, String, Work)> {
    let s = &app.settings;
    let mut jobs: Vec<(&'static str, String, Work)> = vec![
        (EXPIRE_HOLDS, s.jobs.expire_holds.clone(), |a| {
            Box::pin(expire_holds(a))
        }),
        ("complete_stays", s.jobs.complete_stays.clone(), |a| {
            Box::pin(complete_stays(a))
        }),
        ("purge_idempotency", s.jobs.purge_idempotency.clone(), |a| {
            Box::pin(purge(a))
        }),
        ("ical_sync", s.ical.check_schedule.clone(), |a| {
            Box::pin(ical_sync(a))
        }),
        ("backup", s.backup.schedule.clone(), |a| Box::pin(backup(a))),
    ];
    if app.payments.is_configured() {
        jobs.push(
            ("reconcile_payments", s.mercadopago.reconcile.clone(), |a| {
                Box::pin(reconcile_payments(a))
            }),
        );
    }
    jobs
}

/// Creates job `name`'s series before it first runs: `job_runs_total` at zero for every
/// outcome and `job_last_success_timestamp_seconds` at 0, which means "no success since this
/// process started" (alerts compare it with `time()`, so 0 reads as long ago).
fn register_series(name: &'static str) {
    for outcome in ["ok", "error", "panic"] {
        metrics::counter!("job_runs_total", "job" => name, "outcome" => outcome).increment(0);
    }
    metrics::gauge!("job_last_success_timestamp_seconds", "job" => name).set(0.0);
}

/// The running scheduler and the application its jobs work on.
pub struct Scheduled {
    scheduler: JobScheduler,
    app: Arc<Mutex<Option<App>>>,
}

impl Scheduled {
    /// Stops the scheduler and lets go of the application (the scheduler's own tasks outlive
    /// its shutdown, and with them the jobs; they must not keep the store open).
    pub async fn stop(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "job scheduler did not stop cleanly");
        }
        self.app.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Schedules every job and starts the scheduler: the one place jobs are wired.
pub async fn start(app: &App) -> Result<Scheduled, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let shared = Arc::new(Mutex::new(Some(app.clone())));
    for (name, schedule, work) in jobs(app) {
        register_series(name);
        let shared = shared.clone();
        add(&scheduler, name, &schedule, app.jobs.clone(), move || {
            let app = shared.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match app {
                Some(app) => work(app),
                None => Box::pin(async { Ok("stopped".to_owned()) }),
            }
        })
        .await?;
    }
    scheduler.start().await?;
    Ok(Scheduled {
        scheduler,
        app: shared,
    })
}

/// Adds job `name` on `schedule` to a scheduler (started or not); `work` makes each run.
async fn add(
    scheduler: &JobScheduler,
    name: &'static str,
    schedule: &str,
    status: Arc<JobStatus>,
    work: impl Fn() -> JobFuture + Send + Sync + 'static,
) -> Result<(), JobSchedulerError> {
    let work = Arc::new(work);
    let job = Job::new_async(schedule, move |_, _| {
        let (work, status) = (work.clone(), status.clone());
        Box::pin(async move { run_job(name, &status, work()).await })
    })?;
    scheduler.add(job).await?;
    Ok(())
}

/// Whether the hold-expiry job succeeded recently enough (or the server is younger than
/// `stale_after`): what health's scheduler check says.
pub fn is_fresh(status: &JobStatus, started: Instant, stale_after: Duration) -> bool {
    recently(status, started, stale_after, |r| r.last_success)
}

/// Whether the hold-expiry job ran recently enough, whatever its outcome (or the server is
/// younger than `stale_after`): the scheduler is alive. This is what the systemd watchdog
/// asks, since a restart mends a stuck scheduler but not a job that fails on its data.
pub fn is_running(status: &JobStatus, started: Instant, stale_after: Duration) -> bool {
    recently(status, started, stale_after, |r| r.last_run)
}

fn recently(
    status: &JobStatus,
    started: Instant,
    stale_after: Duration,
    at: fn(&JobRecord) -> Option<Timestamp>,
) -> bool {
    if started.elapsed() < stale_after {
        return true;
    }
    status
        .snapshot()
        .get(EXPIRE_HOLDS)
        .and_then(at)
        .is_some_and(|t| Timestamp::now().duration_since(t).unsigned_abs() < stale_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_or_panicking_job_is_recorded_and_the_caller_goes_on() {
        let status = JobStatus::default();
        run_job("ok_job", &status, async { Ok("fine".to_owned()) }).await;
        run_job("bad_job", &status, async {
            Err(StoreError::LockTimeout.into())
        })
        .await;
        run_job("panicky_job", &status, async { panic!("boom") }).await;
        let s = status.snapshot();
        assert!(s["ok_job"].last_success.is_some());
        assert!(s["bad_job"].last_success.is_none());
        assert!(
            s["bad_job"]
                .last_error
                .as_deref()
                .unwrap()
                .contains("waited too long")
        );
        assert_eq!(s["panicky_job"].last_error.as_deref(), Some("panicked"));
        assert_eq!(s["panicky_job"].runs, 1);
    }
}
