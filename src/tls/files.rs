//! Certificates from files (`cert_file`, `key_file`): read at start, and again on SIGHUP
//! (`systemctl reload alojamientos`). A reload that fails keeps the certificate being served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::cert::Loaded;
use super::resolver::CertResolver;
use super::status::TlsStatus;

pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub resolver: Arc<CertResolver>,
    pub status: Arc<TlsStatus>,
}

fn read(path: &Path, key: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {} ({key})", path.display()))
}

impl CertFiles {
    /// Reads both files and serves them.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let chain = read(&self.cert, "server.tls.cert_file")?;
        let key = read(&self.key, "server.tls.key_file")?;
        let loaded = Loaded::from_pem(&chain, &key)
            .with_context(|| format!("{} and {}", self.cert.display(), self.key.display()))?;
        self.resolver.set(&loaded);
        self.status.served(loaded.not_after);
        Ok(loaded)
    }

    /// Reloads on every SIGHUP until aborted.
    pub async fn reload_on_hangup(self) {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; certificate files reload only on restart");
            return;
        };
        while hangups.recv().await.is_some() {
            match self.load() {
                Ok(loaded) => {
                    tracing::info!(not_after = %loaded.not_after, "certificate files reloaded")
                }
                Err(e) => {
                    let error = format!("{e:#}");
                    tracing::error!(%error, "certificate reload failed; serving the previous one");
                    self.status.failed(error);
                }
            }
        }
    }
}
