//! The `[backup]` section: scheduled snapshots of the store, their retention and staleness.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, cron, duration, invalid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    pub schedule: String,
    pub keep: u32,
    pub dir: PathBuf,
    pub stale_after: String,
    pub offsite: String,
}

impl Default for BackupSection {
    fn default() -> Self {
        Self {
            schedule: "0 30 3 * * *".into(),
            keep: 7,
            dir: PathBuf::new(),
            stale_after: "26h".into(),
            offsite: String::new(),
        }
    }
}

/// Validated `[backup]` settings.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// Six-field cron schedule of the snapshot job.
    pub schedule: String,
    /// Snapshots kept in `dir`; older ones are deleted after each new one.
    pub keep: usize,
    /// Where snapshots go; `None` means `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
    /// Health warns when the newest snapshot is older than this.
    pub stale_after: Duration,
    /// Where off-site copies go, as the host described it (none: not set up yet).
    pub offsite: Option<String>,
}

impl BackupSection {
    pub fn validate(self) -> Result<BackupSettings, ConfigError> {
        if !(1..=1000).contains(&self.keep) {
            return Err(invalid("backup.keep", "must be between 1 and 1000"));
        }
        let stale_after = duration("backup.stale_after", &self.stale_after)?;
        if stale_after < Duration::from_secs(60) {
            return Err(invalid("backup.stale_after", "must be at least 1m"));
        }
        Ok(BackupSettings {
            schedule: cron("backup.schedule", &self.schedule)?,
            keep: self.keep as usize,
            dir: Some(self.dir).filter(|d| !d.as_os_str().is_empty()),
            stale_after,
            offsite: Some(self.offsite.trim().to_owned()).filter(|o| !o.is_empty()),
        })
    }
}
