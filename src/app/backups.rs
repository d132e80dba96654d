//! The server's backups: one snapshot at a time (scheduled or asked for), retention, metrics,
//! and the last success that health and the `BackupStale` alert look at.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::background::{self, Priority};
use crate::config::Settings;
use crate::store::Store;
use crate::store::backup::{self, BackupError, SnapshotInfo};

/// Takes snapshots of the live store into the backup directory.
pub struct Backups {
    store: Store,
    dir: PathBuf,
    keep: usize,
    stale_after: Duration,
    /// Free space the store's writer keeps; a snapshot must leave it too.
    min_free: u64,
    started: Instant,
    last_success: Mutex<Option<Timestamp>>,
    running: tokio::sync::Mutex<()>,
}

impl Backups {
    /// Prepares backups for `store`; the last success starts as the newest snapshot's time.
    /// The directory is made absolute here, so every path the server answers (to the `backup`
    /// verb, run from any directory) names the file whatever form `data_dir` has.
    pub fn new(store: Store, settings: &Settings) -> Arc<Backups> {
        let dir = settings.backup_dir();
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        remove_unfinished(&dir);
        let last = backup::list_snapshots(&dir)
            .last()
            .and_then(|p| std::fs::metadata(p).ok()?.modified().ok())
            .and_then(|t| Timestamp::try_from(t).ok());
        if let Some(t) = last {
            metrics::gauge!("backup_last_success_timestamp_seconds").set(t.as_second() as f64);
        }
        Arc::new(Backups {
            store,
            dir,
            keep: settings.backup.keep,
            stale_after: settings.backup.stale_after,
            min_free: settings.min_free_bytes,
            started: Instant::now(),
            last_success: Mutex::new(last),
            running: tokio::sync::Mutex::new(()),
        })
    }

    /// Takes a snapshot now (waiting for one in progress to finish first), then prunes old
    /// ones beyond `backup.keep`. Old snapshots go only after the new one is complete; a disk
    /// without room for a copy of the store (plus `server.min_free_mb`) is refused up front.
    pub async fn take(&self) -> Result<SnapshotInfo, BackupError> {
        let _one_at_a_time = self.running.lock().await;
        let dest = self.dir.join(backup::snapshot_name());
        let (store, dir, keep) = (self.store.clone(), self.dir.clone(), self.keep);
        let min_free = self.min_free;
        let started = Instant::now();
        // At nice 19: the copy reads and writes the whole store, and on a busy 2-core machine
        // it took CPU from requests (hold p99 of 60-120 ms during the soak's backups).
        let outcome = background::run("backup", Priority::Lowest, move || {
            crate::store::private_dir(&dir).map_err(|source| BackupError::Io {
                path: dir.clone(),
                source,
            })?;
            let needed = (store.file_size() + store.archive_file_size()).saturating_add(min_free);
            match crate::store::available_bytes(&dir) {
                Some(available) if available < needed => {
                    return Err(BackupError::NoSpace {
                        dir: dir.clone(),
                        needed,
                        available,
                    });
                }
                _ => {}
            }
            let info = store.snapshot_to(&dest);
            // The copy's pages and bookkeeping were freed on this thread: give them, and what
            // other threads freed, back to the system now rather than when the allocator next
            // purges (each ten-minute backup of the soak left RSS higher before this).
            crate::memory::release_freed();
            let info = info?;
            backup::prune(&dir, keep);
            Ok::<_, BackupError>(info)
        })
        .await
        .unwrap_or_else(|| Err(crate::store::StoreError::Panicked.into()));
        metrics::histogram!("backup_duration_seconds").record(started.elapsed().as_secs_f64());
        match &outcome {
            Ok(info) => {
                let now = Timestamp::now();
                *self.last_success.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
                metrics::gauge!("backup_last_success_timestamp_seconds")
                    .set(now.as_second() as f64);
                metrics::gauge!("backup_size_bytes").set(info.size_bytes as f64);
                metrics::counter!("backup_runs_total", "outcome" => "ok").increment(1);
                tracing::info!(path = %info.path.display(), size = info.size_bytes, "backup written");
            }
            Err(e) => {
                metrics::counter!("backup_runs_total", "outcome" => "error").increment(1);
                tracing::error!(error = %e, "backup failed");
            }
        }
        outcome
    }

    /// The newest successful snapshot's time (from disk at start, then from this process).
    pub fn last_success(&self) -> Option<Timestamp> {
        *self.last_success.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the newest snapshot is older than `backup.stale_after` (a server younger than
    /// that is given time for its first one).
    pub fn is_stale(&self) -> bool {
        match self.last_success() {
            Some(t) => Timestamp::now().duration_since(t).unsigned_abs() > self.stale_after,
            None => self.started.elapsed() > self.stale_after,
        }
    }

    /// The snapshots on disk, oldest first.
    pub fn list(&self) -> Vec<PathBuf> {
        backup::list_snapshots(&self.dir)
    }
}

/// Removes what a snapshot interrupted by a crash left behind (`*.partial`, `*.tmp-write`):
/// at start no snapshot is in progress, and they would only take disk space.
fn remove_unfinished(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(backup::SNAPSHOT_PREFIX)
            && (name.ends_with(".partial") || name.ends_with(".tmp-write"))
        {
            tracing::warn!(file = %name, "removing an unfinished snapshot left by a crash");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
