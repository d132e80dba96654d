//! The `backup`, `restore` and `check` verbs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::Settings;
use crate::control;
use crate::store::backup::{self, SnapshotInfo};
use crate::store::{ARCHIVE_FILE, STORE_FILE, Store, StoreError};

/// `alojamientos backup [--out PATH]`: asks the running server for a snapshot, or snapshots
/// the store file itself when no server runs; with `--out`, the snapshot also goes there.
pub async fn backup(settings: Settings, out: Option<PathBuf>) -> anyhow::Result<()> {
    let out = out
        .map(|p| std::path::absolute(&p).with_context(|| format!("resolving {}", p.display())))
        .transpose()?;
    let info = match control::read(&settings.data_dir) {
        Some(c) => match tokio::task::spawn_blocking(move || ask_server(&c)).await? {
            Ok(info) => Some(info),
            Err(AskError::Unreachable(e)) => {
                eprintln!(
                    "the server in the control file does not answer ({e}); working on the store file"
                );
                None
            }
            Err(AskError::Refused(e)) => bail!("the server refused the backup: {e}"),
        },
        None => None,
    };
    let info = match info {
        Some(from_server) => {
            eprintln!("snapshot taken by the running server");
            from_server
        }
        None => offline_snapshot(&settings, out.as_deref()).await?,
    };
    let info = match out {
        Some(out) if info.path != out => {
            tokio::task::spawn_blocking(move || copy_out(&info, &out)).await??
        }
        _ => info,
    };
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(())
}

enum AskError {
    Unreachable(String),
    Refused(String),
}

fn ask_server(c: &control::Control) -> Result<SnapshotInfo, AskError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .into();
    let mut response = agent
        .post(format!("{}/api/v1/admin/backups", c.url))
        .header("authorization", format!("Bearer {}", c.token))
        .send_empty()
        .map_err(|e| AskError::Unreachable(e.to_string()))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| AskError::Refused(e.to_string()))?;
    if status.as_u16() != 201 {
        return Err(AskError::Refused(format!("{status}: {text}")));
    }
    serde_json::from_str(&text).map_err(|e| AskError::Refused(e.to_string()))
}

async fn offline_snapshot(settings: &Settings, out: Option<&Path>) -> anyhow::Result<SnapshotInfo> {
    let (store, writer) = Store::open(
        &settings.data_dir,
        settings.lock_timeout,
        settings.cache_bytes,
    )
    .map_err(|e| match e {
        StoreError::AlreadyOpen(_) => anyhow::anyhow!(
            "a server holds the store but left no usable control file; ask it with \
             `curl -X POST -H 'authorization: Bearer <admin token>' <url>/api/v1/admin/backups`"
        ),
        other => other.into(),
    })?;
    let (dest, prune_dir) = match out {
        Some(out) => (out.to_owned(), None),
        None => {
            let dir = settings.backup_dir();
            (dir.join(backup::snapshot_name()), Some(dir))
        }
    };
    let keep = settings.backup.keep;
    let snapshot_store = store.clone();
    let info = tokio::task::spawn_blocking(move || {
        let info = snapshot_store.snapshot_to(&dest)?;
        if let Some(dir) = prune_dir {
            backup::prune(&dir, keep);
        }
        Ok::<_, backup::BackupError>(info)
    })
    .await??;
    store.close().await;
    drop(store);
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    Ok(info)
}

/// Copies a snapshot (and its checksum) to `out` via a temporary file, fsync and rename, and
/// checks the copy against the checksum.
fn copy_out(info: &SnapshotInfo, out: &Path) -> anyhow::Result<SnapshotInfo> {
    let tmp = out.with_extension("partial");
    std::fs::copy(&info.path, &tmp)
        .with_context(|| format!("copying {} to {}", info.path.display(), tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    let sha256 = backup::file_sha256(&tmp)?;
    if sha256 != info.sha256 {
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "the copy at {} does not match the snapshot's checksum",
            tmp.display()
        );
    }
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    let mut sums = out.as_os_str().to_owned();
    sums.push(".sha256");
    let sums = PathBuf::from(sums);
    let sums_tmp = sums.with_extension("partial");
    std::fs::write(&sums_tmp, format!("{sha256}  {name}\n"))?;
    std::fs::File::open(&sums_tmp)?.sync_all()?;
    std::fs::rename(&sums_tmp, &sums)?;
    std::fs::rename(&tmp, out)?;
    Ok(SnapshotInfo {
        path: out.to_owned(),
        ..info.clone()
    })
}

/// `alojamientos restore PATH`: refuses while a server runs, verifies the snapshot, keeps the
/// replaced store aside.
pub fn restore(settings: &Settings, snapshot: &Path) -> anyhow::Result<()> {
    let (report, aside) = backup::restore(&settings.data_dir, snapshot)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    match aside {
        Some(aside) => eprintln!(
            "restored {}; the replaced store is kept at {}",
            snapshot.display(),
            aside.display()
        ),
        None => eprintln!(
            "restored {} into an empty data directory",
            snapshot.display()
        ),
    }
    Ok(())
}

/// `alojamientos check [PATH]`: integrity of a snapshot or (server stopped) of the live store
/// and its archive file.
pub fn check(settings: &Settings, path: Option<PathBuf>) -> anyhow::Result<()> {
    let archive = path
        .is_none()
        .then(|| settings.data_dir.join(ARCHIVE_FILE))
        .filter(|archive| archive.is_file());
    let path = path.unwrap_or_else(|| settings.data_dir.join(STORE_FILE));
    let mut report = backup::verify(&path, false).map_err(refused(&path))?;
    if let Some(archive) = &archive {
        let archived = backup::verify_archive(archive).map_err(refused(archive))?;
        report.archived_reservations = Some(archived);
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!("{}: ok", path.display());
    if let Some(archive) = archive {
        eprintln!("{}: ok", archive.display());
    }
    Ok(())
}

/// Why `check` refused `path`, naming it.
fn refused(path: &Path) -> impl FnOnce(backup::BackupError) -> anyhow::Error + '_ {
    move |e| match e {
        // systemd/install.sh's rollback reads "the server holds" as "the store is in use".
        backup::BackupError::Store(StoreError::AlreadyOpen(_)) => anyhow::anyhow!(
            "the server holds {}; check a fresh snapshot instead: \
             alojamientos backup --out /tmp/check.redb && alojamientos check /tmp/check.redb",
            path.display()
        ),
        backup::BackupError::Store(e) => anyhow::anyhow!("{}: {e}", path.display()),
        other => other.into(),
    }
}
