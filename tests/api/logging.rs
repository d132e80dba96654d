//! What the host's journal gets from the real binary with the default `log.format = json`:
//! JSON lines only, on stderr (stdout stays empty), third-party crates quiet at the default
//! `info`, no line per ordinary request, one per slow request.

use std::process::Stdio;
use std::time::Duration;

use crate::helpers::binary::command;
use reqwest::Client;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Runs `serve` at the default filter with `extra` settings, sends `requests` GETs to
/// `path` once it listens, kills it and returns (stdout, every stderr line as JSON).
async fn run(extra: &[(&str, &str)], path: &str, requests: usize) -> (String, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path());
    cmd.env("ALOJAMIENTOS_LOG__FILTER", "info");
    for (key, value) in extra {
        cmd.env(key, value);
    }
    let mut child = cmd
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut lines = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            let json: Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            let url = json["fields"]["url"].as_str().map(str::to_owned);
            lines.push(json);
            if let Some(url) = url {
                return url;
            }
        }
        panic!("the server exited before listening")
    })
    .await
    .unwrap();
    let client = Client::new();
    for _ in 0..requests {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    while let Some(line) = stderr.next_line().await.unwrap() {
        lines.push(serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")));
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    (stdout, lines)
}

#[tokio::test]
async fn json_lines_only_on_stderr_and_no_third_party_noise_or_access_lines_at_info() {
    let (stdout, lines) = run(&[], "/api/v1/healthz", 20).await;
    assert_eq!(stdout, "", "stdout carries nothing with log.format = json");
    let message = |l: &Value| {
        l["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // The first admin's one-time password is never logged: the notice names its 0600 file.
    assert!(
        lines
            .iter()
            .any(|l| message(l).starts_with("first admin created")
                && l["fields"]["password_file"].is_string()
                && l["fields"]["password"].is_null()),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| message(l) == "listening"));
    for line in &lines {
        let target = line["target"].as_str().unwrap();
        assert!(
            target.starts_with("alojamientos"),
            "third-party line: {line}"
        );
        assert_ne!(
            line["target"], "alojamientos::access",
            "access line: {line}"
        );
    }
}

#[tokio::test]
async fn slow_requests_are_logged_at_warn_with_their_route_and_ids() {
    let (_, lines) = run(
        &[("ALOJAMIENTOS_LOG__SLOW_REQUEST", "0ms")],
        "/api/v1/healthz",
        3,
    )
    .await;
    let slow: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "alojamientos::access")
        .collect();
    assert_eq!(slow.len(), 3, "{lines:?}");
    for line in slow {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["message"], "slow request");
        assert_eq!(line["fields"]["status"], 200);
        assert_eq!(line["span"]["route"], "/api/v1/healthz");
        assert!(line["span"]["request_id"].is_string());
    }
}

#[tokio::test]
async fn a_start_up_failure_is_a_json_line_too() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path())
        .env(
            "ALOJAMIENTOS_SERVER__LISTEN",
            taken.local_addr().unwrap().to_string(),
        )
        .arg("serve")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot listen"),
        "{last}"
    );
}
