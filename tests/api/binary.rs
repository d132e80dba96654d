//! The real binary: CLI verbs, start-up, the data-dir lock, and crash safety under kill -9.

use std::process::Stdio;
use std::time::Duration;

use crate::helpers::binary::{
    BIN, HoldLoad, command, create_room, login, missing_reservations, start, start_with,
};
use crate::helpers::{body, day};
use reqwest::{Client, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

#[tokio::test]
async fn config_default_prints_the_shipped_example_and_version_and_help_work() {
    let out = Command::new(BIN)
        .args(["config", "default"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/alojamientos.toml"
    ))
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shipped);
    let out = Command::new(BIN).arg("version").output().await.unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("alojamientos {}", env!("CARGO_PKG_VERSION"))
    );
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["admin", "add", "--help"],
        vec!["config", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().await.unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Usage"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn invalid_config_fails_fast_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path())
        .env("ALOJAMIENTOS_PROPERTY__TIME_ZONE", "Mars/Base")
        .arg("serve")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("property.time_zone"));
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[reservations]\nhold_duraton = \"5m\"\n").unwrap();
    let out = command(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hold_duraton"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_second_process_on_the_same_data_dir_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(dir.path()).await;
    let out = command(dir.path()).arg("serve").output().await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already in use by another alojamientos process"),
        "{err}"
    );
    let r = Client::new()
        .get(format!("{}/api/v1/healthz", first.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the first process is unharmed");
    first.child.kill().await.unwrap();
}

#[tokio::test]
async fn admin_add_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(dir.path())
        .args(["admin", "add", "Host@Example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"una clave muy larga\n")
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut short = command(dir.path())
        .args(["admin", "add", "x@example.com"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    short
        .stdin
        .take()
        .unwrap()
        .write_all(b"corta\n")
        .await
        .unwrap();
    assert!(!short.wait_with_output().await.unwrap().status.success());

    let mut server = start(dir.path()).await;
    assert!(
        server.password.is_none(),
        "no first admin is printed when one exists"
    );
    let client = Client::new();
    login(
        &client,
        &server.base,
        "host@example.com",
        "una clave muy larga",
    )
    .await;
    server.child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_load_loses_no_acknowledged_reservation() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let password = server
        .password
        .clone()
        .expect("first start prints the admin password");
    let email = "admin@alojamientos.local";
    let token = login(&client, &server.base, email, &password).await;
    let mut units = Vec::new();
    for i in 0..8 {
        units.push(create_room(&client, &server.base, &token, &format!("U{i}")).await);
    }
    let load = HoldLoad::start(&client, &server.base, &units, 32);
    let loaded = || async { load.acknowledged().len() >= 300 };
    assert!(
        crate::helpers::eventually(Duration::from_secs(60), loaded).await,
        "load reaches 300 holds"
    );
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let acked = load.stop().await;

    let restarted = start(dir.path()).await;
    let health = client
        .get(format!("{}/api/v1/healthz", restarted.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let token = login(&client, &restarted.base, email, &password).await;
    let missing = missing_reservations(&client, &restarted.base, &token, &acked).await;
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged reservations lost: {missing:?}",
        missing.len(),
        acked.len()
    );
}

#[tokio::test]
async fn logs_are_json_lines_with_request_ids_and_no_guest_data_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path());
    cmd.env("ALOJAMIENTOS_LOG__FILTER", "debug");
    let server = start_with(cmd).await;
    let client = Client::new();
    let token = login(
        &client,
        &server.base,
        "admin@alojamientos.local",
        server.password.as_deref().unwrap(),
    )
    .await;
    let id = create_room(&client, &server.base, &token, "A").await;
    let r = client
        .post(format!("{}/api/v1/reservations", server.base))
        .header("X-Trace-ID", "trace-log-1")
        .json(&crate::helpers::reserve_body(id, &day(3), &day(5)))
        .send()
        .await
        .unwrap();
    let hold = body(r).await;
    let access = hold["access_token"].as_str().unwrap();
    let code = hold["code"].as_str().unwrap();
    client
        .get(format!("{}/api/v1/reservations/{code}", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let password = server.password.clone().unwrap();
    let lines: Vec<serde_json::Value> = server
        .kill_and_log()
        .await
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        // The first-admin notice carries the password by design (shown once, at first start).
        .filter(|l: &serde_json::Value| !l["fields"]["password"].is_string())
        .collect();
    let logs = lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["trace_id"] == "trace-log-1" && l["span"]["request_id"].is_string()),
        "{logs}"
    );
    for secret in [
        "5491122334455",
        "ana@example.com",
        "Ana Pérez",
        access,
        &token,
        &password,
    ] {
        assert!(!logs.contains(secret), "logs leak {secret:?}");
    }
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly_keeping_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let client = Client::new();
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, "admin@alojamientos.local", &password).await;
    let id = create_room(&client, &server.base, &token, "A").await;
    let hold = body(
        client
            .post(format!("{}/api/v1/reservations", server.base))
            .json(&crate::helpers::reserve_body(id, &day(3), &day(5)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pid = i32::try_from(server.child.id().unwrap()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .expect("exits within 15 s")
        .unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status}");

    let restarted = start(dir.path()).await;
    let token = login(
        &client,
        &restarted.base,
        "admin@alojamientos.local",
        &password,
    )
    .await;
    let r = client
        .get(format!(
            "{}/api/v1/admin/reservations/{}",
            restarted.base,
            hold["code"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
