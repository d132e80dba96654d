//! systemd integration of the real binary: READY=1 once it serves, WATCHDOG=1 pings only while
//! the store and the scheduler are alive, STOPPING=1 on SIGTERM, and socket activation (a
//! listening socket passed as fd 3) with connections made before the start answered.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::helpers::binary::{BIN, command, start_with};
use tokio::net::UnixDatagram;

/// Collects notify messages for `window`.
pub(crate) async fn collect(socket: &UnixDatagram, window: Duration) -> Vec<String> {
    let mut got = Vec::new();
    let end = Instant::now() + window;
    let mut buf = [0u8; 512];
    while let Ok(Ok(n)) = tokio::time::timeout_at(end.into(), socket.recv(&mut buf)).await {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    got
}

/// Starts the binary with a notify socket and a 200 ms watchdog, plus `env`.
pub(crate) async fn start_notified(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (crate::helpers::binary::Server, UnixDatagram) {
    let sock_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&sock_path).unwrap();
    let mut cmd = command(dir);
    cmd.env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "200000")
        .envs(env.iter().copied());
    (start_with(cmd).await, socket)
}

#[tokio::test]
async fn notifies_ready_pings_the_watchdog_while_healthy_and_says_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, socket) = start_notified(
        dir.path(),
        &[("ALOJAMIENTOS_JOBS__EXPIRE_HOLDS", "* * * * * *")],
    )
    .await;
    let first = collect(&socket, Duration::from_secs(2)).await;
    assert_eq!(
        first.first().map(String::as_str),
        Some("READY=1"),
        "{first:?}"
    );
    let pings = first.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(pings >= 5, "pings every 100 ms: {first:?}");
    let pid = server.child.id().unwrap() as i32;
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let last = collect(&socket, Duration::from_secs(5)).await;
    assert!(last.iter().any(|m| m == "STOPPING=1"), "{last:?}");
    assert!(server.child.wait().await.unwrap().success());
}

#[tokio::test]
async fn the_watchdog_stops_pinging_when_the_scheduler_stalls() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, socket) = start_notified(
        dir.path(),
        &[
            ("ALOJAMIENTOS_JOBS__EXPIRE_HOLDS", "0 0 0 1 1 *"),
            ("ALOJAMIENTOS_JOBS__STALE_AFTER", "1s"),
        ],
    )
    .await;
    let early = collect(&socket, Duration::from_millis(900)).await;
    assert!(early.iter().any(|m| m == "WATCHDOG=1"), "{early:?}");
    collect(&socket, Duration::from_millis(600)).await;
    let late = collect(&socket, Duration::from_secs(1)).await;
    assert!(
        !late.iter().any(|m| m == "WATCHDOG=1"),
        "no pings once the hold-expiry job is stale: {late:?}"
    );
}

#[tokio::test]
async fn serves_on_the_socket_systemd_passes_and_answers_connections_made_before_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut early = std::net::TcpStream::connect(addr).unwrap();
    early
        .write_all(b"GET /api/v1/readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let fd = listener.as_raw_fd();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$0\" \"$@\"", BIN])
        .env_clear()
        .env("LISTEN_FDS", "1")
        .env("ALOJAMIENTOS_SERVER__DATA_DIR", dir.path())
        .env("ALOJAMIENTOS_SERVER__LISTEN", "127.0.0.1:9")
        .env("ALOJAMIENTOS_LOG__FILTER", "warn")
        .kill_on_drop(true);
    // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let server = start_with(cmd).await;
    assert_eq!(server.base, format!("http://{addr}"));
    early
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    early.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let r = reqwest::get(format!("{}/api/v1/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn listen_fds_naming_a_descriptor_that_is_not_a_socket_is_a_clear_error_not_an_abort() {
    // LISTEN_FDS set by hand with nothing passed: descriptor 3 is whatever the process opens
    // first (its event loop's), which must not be taken and closed as a socket.
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("sh")
        .args(["-c", "LISTEN_PID=$$ exec \"$0\" serve", BIN])
        .env_clear()
        .env("LISTEN_FDS", "1")
        .env("ALOJAMIENTOS_SERVER__DATA_DIR", dir.path())
        .env("ALOJAMIENTOS_LOG__FILTER", "warn")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("LISTEN_FDS names descriptor 3, which is not a socket"),
        "{stderr}"
    );
}
