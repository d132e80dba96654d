//! The two systemd protocols the service uses, hand-written because each is a few lines:
//! sd_notify (`READY=1`, `WATCHDOG=1`, `STOPPING=1` as datagrams to `$NOTIFY_SOCKET`) and
//! socket activation (listening sockets passed from fd 3 on with `LISTEN_FDS` / `LISTEN_PID`,
//! named by `LISTEN_FDNAMES`).

use std::os::fd::FromRawFd;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// First file descriptor systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;

/// Sends `state` (e.g. `READY=1`) to systemd; does nothing outside a `Type=notify` service.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = UnixDatagram::unbound().and_then(|socket| {
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &addr)
        } else {
            socket.send_to(state.as_bytes(), &path)
        }
    });
    if let Err(e) = sent {
        tracing::warn!(error = %e, state, "cannot notify systemd");
    }
}

/// Half of `WatchdogSec` when systemd watches this process (`WATCHDOG_USEC`, and
/// `WATCHDOG_PID` is absent or ours): how often to send `WATCHDOG=1`.
pub fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// The listening TCP sockets systemd passed (socket activation), by `FileDescriptorName=`:
/// `https` and `http` for the public ports, any other name (or none) for the main listener.
#[derive(Debug, Default)]
pub struct Sockets {
    pub main: Option<std::net::TcpListener>,
    pub https: Option<std::net::TcpListener>,
    pub http: Option<std::net::TcpListener>,
}

/// The sockets systemd passed, if any and if meant for us (`LISTEN_PID`). Taken once, at start.
pub fn take_sockets() -> std::io::Result<Sockets> {
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count: i32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut sockets = Sockets::default();
    if !for_us || count < 1 {
        return Ok(sockets);
    }
    let names = std::env::var("LISTEN_FDNAMES").unwrap_or_default();
    let mut names = names.split(':');
    for fd in LISTEN_FDS_START..LISTEN_FDS_START + count {
        // A descriptor that is not a socket was not passed by systemd (LISTEN_FDS set by hand):
        // it may be one this process opened itself, so it is refused before being owned.
        if !is_socket(fd) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("LISTEN_FDS names descriptor {fd}, which is not a socket"),
            ));
        }
        // SAFETY: systemd hands fds 3.. to this process (LISTEN_PID is ours) as listening
        // sockets that nothing else in the process owns; each is taken once, here.
        let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
        listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let slot = match names.next().unwrap_or("") {
            "https" => &mut sockets.https,
            "http" => &mut sockets.http,
            _ => &mut sockets.main,
        };
        if slot.is_some() {
            tracing::warn!(
                fd,
                "systemd passed two sockets of one kind; serving on the first"
            );
            continue;
        }
        *slot = Some(listener);
    }
    Ok(sockets)
}

/// Whether `fd` is an open socket (fstat only; the descriptor is not taken).
fn is_socket(fd: i32) -> bool {
    // SAFETY: fstat writes into the zeroed buffer it is given and nothing else.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut stat) == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFSOCK
    }
}
