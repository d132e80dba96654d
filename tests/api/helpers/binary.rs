//! The real binary as a child process: environment-only configuration, start-up parsing of
//! its first lines, and admin helpers over HTTP.

use std::process::Stdio;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::body;

pub const BIN: &str = env!("CARGO_BIN_EXE_alojamientos");

pub fn command(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("ALOJAMIENTOS_SERVER__DATA_DIR", dir)
        .env("ALOJAMIENTOS_SERVER__LISTEN", "127.0.0.1:0")
        .env("ALOJAMIENTOS_RATE_LIMIT__ENABLED", "false")
        .env("ALOJAMIENTOS_HOLDS__PER_PHONE", "0")
        .env("ALOJAMIENTOS_HOLDS__PER_ADDRESS", "0")
        .env("ALOJAMIENTOS_HOLDS__MAX_NIGHTS", "0")
        .env("ALOJAMIENTOS_HOLDS__MAX_SHARE_PERCENT", "100")
        .env("ALOJAMIENTOS_SERVER__MAX_CONNECTIONS_PER_CLIENT", "1024")
        .env("ALOJAMIENTOS_LOG__FILTER", "warn")
        .kill_on_drop(true);
    c
}

/// Runs a CLI verb against the data directory `dir`; returns (success, stdout, stderr).
pub async fn verb(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = command(dir).args(args).output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`command`] with `ALOJAMIENTOS_{section}__{key}` set to each value of `settings`.
pub fn command_with(dir: &std::path::Path, section: &str, settings: &[(&str, String)]) -> Command {
    let mut c = command(dir);
    for (key, value) in settings {
        c.env(format!("ALOJAMIENTOS_{section}__{key}"), value);
    }
    c
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub password: Option<String>,
    /// Every line the server wrote to its log stream (stderr), filled as it writes them.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    log_reader: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Kills the process as a crash would (SIGKILL, no shutdown) and waits until it is gone.
    pub async fn crash(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// Kills the process and returns every line of its log stream.
    pub async fn kill_and_log(mut self) -> Vec<String> {
        self.crash().await;
        self.log_reader.await.unwrap();
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// The server's health report (`GET /api/v1/healthz`).
    pub async fn health(&self, client: &Client) -> serde_json::Value {
        client
            .get(format!("{}/api/v1/healthz", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Starts `serve` and reads its log stream until it says where it listens.
pub async fn start(dir: &std::path::Path) -> Server {
    start_with(command(dir)).await
}

/// Starts `serve` with `command` (JSON logs, the default format) and reads the start-up
/// notices (first admin, listening address) from its log stream; stdout stays empty.
pub async fn start_with(mut command: Command) -> Server {
    let mut child = command
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut password = None;
    let base = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.lock().unwrap().push(line.clone());
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let fields = &json["fields"];
            if let Some(file) = fields["password_file"].as_str() {
                password = Some(first_admin_password(std::path::Path::new(file)));
            }
            if fields["message"] == "listening" {
                return fields["url"].as_str().unwrap().to_owned();
            }
        }
        panic!(
            "the server exited before listening:\n{}",
            log.lock().unwrap().join("\n")
        );
    })
    .await
    .expect("the server starts within 20 s");
    let kept = log.clone();
    let log_reader = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            kept.lock().unwrap().push(line);
        }
    });
    Server {
        child,
        base,
        password,
        log,
        log_reader,
    }
}

/// The password in the first admin's one-time password file (stdout is not a terminal here,
/// so the binary writes it there instead of printing it).
pub fn first_admin_password(file: &std::path::Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("the file holds the password")
        .trim()
        .to_owned()
}

pub async fn login(client: &Client, base: &str, email: &str, password: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/admin/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    body(r).await["token"].as_str().unwrap().to_owned()
}

/// Creates a room through the admin API and returns its id.
pub async fn create_room(client: &Client, base: &str, token: &str, name: &str) -> u64 {
    let r = client
        .post(format!("{base}/api/v1/admin/accommodations"))
        .bearer_auth(token)
        .json(&json!({"name": name, "kind": "room", "capacity": 2, "base_price": "1000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r).await["id"].as_u64().unwrap()
}

/// Guests taking one-night holds on `units` from `tasks` concurrent tasks until stopped; each
/// task walks its own dates, so only the server's answers decide what is acknowledged.
pub struct HoldLoad {
    pub acknowledged: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl HoldLoad {
    /// Starts the load; a 201 is recorded, a 409 tolerated, a connection error ends the task.
    pub fn start(client: &Client, base: &str, units: &[u64], tasks: u64) -> HoldLoad {
        use std::sync::atomic::Ordering;
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lanes = units.len() as u64;
        let tasks = (0..tasks)
            .map(|w| {
                let (client, base, acked, stop) = (
                    client.clone(),
                    base.to_owned(),
                    acknowledged.clone(),
                    stop.clone(),
                );
                let unit = units[(w % lanes) as usize];
                tokio::spawn(async move {
                    let mut n = 0i64;
                    while !stop.load(Ordering::Relaxed) {
                        let start = 1 + (w / lanes) as i64 * 300 + n;
                        n += 1;
                        let req = client.post(format!("{base}/api/v1/reservations")).json(
                            &super::reserve_body(unit, &super::day(start), &super::day(start + 1)),
                        );
                        match req.send().await {
                            Ok(r) if r.status() == StatusCode::CREATED => {
                                if let Ok(b) = r.json::<serde_json::Value>().await {
                                    let code = b["code"].as_str().unwrap().to_owned();
                                    acked.lock().unwrap().push(code);
                                }
                            }
                            Ok(r) => assert_eq!(r.status(), StatusCode::CONFLICT),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        HoldLoad {
            acknowledged,
            stop,
            tasks,
        }
    }

    /// Holds acknowledged so far.
    pub fn acknowledged(&self) -> Vec<String> {
        self.acknowledged.lock().unwrap().clone()
    }

    /// Stops every task and returns all acknowledged holds.
    pub async fn stop(mut self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in &mut self.tasks {
            t.await.unwrap();
        }
        self.acknowledged()
    }
}

/// The codes among `codes` that the admin API of `base` does not know.
pub async fn missing_reservations(
    client: &Client,
    base: &str,
    token: &str,
    codes: &[String],
) -> Vec<String> {
    let mut missing = Vec::new();
    for code in codes {
        let r = client
            .get(format!("{base}/api/v1/admin/reservations/{code}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if r.status() != StatusCode::OK {
            missing.push(code.clone());
        }
    }
    missing
}
