//! The control file (`<data_dir>/control.json`, mode 0600): where the running server listens
//! and a token that lets local operators (the `backup` verb) call its admin endpoints. Written
//! at start, removed at shutdown; reading it needs the same rights as the data directory.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name inside the data directory.
pub const CONTROL_FILE: &str = "control.json";

/// What the server tells local operators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Control {
    /// Base URL to reach the server from this machine, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// Bearer token accepted by the operator endpoints.
    pub token: String,
    pub pid: u32,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONTROL_FILE)
}

/// A URL that reaches `addr` from this machine (wildcard addresses become loopback).
pub fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Writes the control file with a fresh token (owner-only, replaced atomically).
pub fn write(data_dir: &Path, addr: SocketAddr) -> std::io::Result<Control> {
    let control = Control {
        url: local_url(addr),
        token: crate::secret::random_hex(32),
        pid: std::process::id(),
    };
    let json = serde_json::to_vec(&control).expect("control serializes");
    write_owner_only(&path(data_dir), &json)?;
    Ok(control)
}

/// Writes `contents` to `target` readable by its owner only (0600), through a temporary file
/// renamed into place, so readers never see it half-written.
pub fn write_owner_only(target: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, target)
}

/// The running server's control file, if there is one.
pub fn read(data_dir: &Path) -> Option<Control> {
    serde_json::from_slice(&std::fs::read(path(data_dir)).ok()?).ok()
}

/// Removes the control file (at shutdown).
pub fn remove(data_dir: &Path) {
    let _ = std::fs::remove_file(path(data_dir));
}
