//! Logins and passwords: argon2 runs a few at a time with its memory given back, unknown
//! emails cost the same, the password policy in the API and the CLI, and the first admin's
//! one-time password kept out of logs.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::helpers::binary::{command, command_with, login, start_with};
use crate::helpers::{TestApp, body, eventually};

/// A process's resident and peak resident memory, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_of_logins_is_bounded_in_memory_and_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("ENABLED", "true".to_owned()),
        ("PER_SECOND", "5".to_owned()),
    ];
    let mut c = command_with(dir.path(), "RATE_LIMIT", &settings);
    c.env("ALOJAMIENTOS_SERVER__TRUSTED_PROXIES", "[\"127.0.0.1\"]");
    let mut server = start_with(c).await;
    let pid = server.child.id().unwrap();
    // No pooled connections: a crowd's connections close when it is done, as real clients'
    // do (the server would otherwise keep 120 idle connections and their buffers).
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let password = server.password.clone().unwrap();
    let email = "admin@alojamientos.local";
    // Idle: started, one login done, settled.
    login(&client, &server.base, email, &password).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle, _) = memory_kb(pid);
    let started = Instant::now();
    let crowd: Vec<_> = (0..120)
        .map(|i| {
            let client = client.clone();
            let url = format!("{}/api/v1/admin/login", server.base);
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .header("x-forwarded-for", format!("198.18.1.{i}"))
                    .json(&json!({"email": format!("u{i}@example.com"), "password": "wrong password here"}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let code = body(r).await["error"].as_str().unwrap_or_default().to_owned();
                (status, code)
            })
        })
        .collect();
    let mut busy = 0;
    for task in crowd {
        let (status, code) = task.await.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => assert_eq!(code, "invalid_credentials"),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(code, "login_busy");
                busy += 1;
            }
            other => panic!("{other} {code}"),
        }
    }
    let took = started.elapsed();
    let (_, peak) = memory_kb(pid);
    // Two argon2 runs at a time (19 MiB each) and the 120 connections: bounded, not 120 runs.
    assert!(
        peak < idle + 60 * 1024,
        "peak {peak} kB from idle {idle} kB"
    );
    assert!(
        took < Duration::from_secs(10),
        "every login answered in {took:?}"
    );
    let back = eventually(Duration::from_secs(20), || async {
        memory_kb(pid).0 <= idle + 10 * 1024
    })
    .await;
    assert!(back, "RSS {} kB, idle was {idle} kB", memory_kb(pid).0);
    // The real admin still gets in.
    login(&client, &server.base, email, &password).await;
    eprintln!(
        "120 logins in {took:?} ({busy} busy): idle {idle} kB, peak {peak} kB, after {} kB",
        memory_kb(pid).0
    );
    server.child.kill().await.unwrap();
}

#[tokio::test]
async fn logins_wait_for_a_permit_and_unknown_emails_take_as_long_as_known_ones() {
    let app = TestApp::spawn_with(|raw| {
        raw.admin.login_concurrency = 1;
        raw.admin.login_wait = "1ms".into();
    })
    .await;
    let attempt = |email: &str| {
        app.client
            .post(app.url("/api/v1/admin/login"))
            .json(&json!({"email": email, "password": "not the password at all"}))
            .send()
    };
    let (a, b, c) = tokio::join!(
        attempt("x@example.com"),
        attempt("y@example.com"),
        attempt("z@example.com")
    );
    let statuses = [a.unwrap(), b.unwrap(), c.unwrap()];
    let busy: Vec<_> = statuses
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "one permit, three logins at once");
    assert_eq!(busy[0].headers()["retry-after"], "1");
    // Timing: the median of known-email and unknown-email failures are alike (an unknown
    // email runs argon2 against a dummy hash instead of answering at once).
    let timed = |email: &'static str| {
        let app = &app;
        async move {
            let mut times = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                let r = app
                    .client
                    .post(app.url("/api/v1/admin/login"))
                    .json(&json!({"email": email, "password": "not the password at all"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
                times.push(t.elapsed());
            }
            times.sort();
            times[2]
        }
    };
    let known = timed("admin@alojamientos.local").await;
    let unknown = timed("nobody@example.com").await;
    assert!(
        unknown * 3 > known && known * 3 > unknown,
        "known {known:?}, unknown {unknown:?}"
    );
}

#[tokio::test]
async fn the_password_policy_holds_in_the_api() {
    let app = TestApp::spawn().await;
    let change = |current: &str, new: &str| {
        app.client
            .post(app.url("/api/v1/admin/password"))
            .bearer_auth(&app.admin_token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    for weak in ["corta", "Password1234!", "contraseña2024", "123456789012"] {
        let r = change(&app.admin_password, weak).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert_eq!(body(r).await["error"], "weak_password");
    }
    let wrong = change("not mine at all", "mate amargo con tortas fritas")
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = change(&app.admin_password, "mate amargo con tortas fritas")
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let old = app
        .post(
            "/api/v1/admin/login",
            json!({"email": app.admin_email, "password": app.admin_password}),
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = app
        .post(
            "/api/v1/admin/login",
            json!({"email": app.admin_email, "password": "mate amargo con tortas fritas"}),
        )
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_cli_refuses_weak_passwords() {
    let dir = tempfile::tempdir().unwrap();
    for (password, ok) in [
        ("password1234\n", false),
        ("short\n", false),
        ("mate amargo con tortas fritas\n", true),
    ] {
        let mut child = command(dir.path())
            .args(["admin", "add", "host@example.com"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(password.as_bytes()).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        assert_eq!(out.status.success(), ok, "{password}");
        if !ok {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("12 characters") || err.contains("too common"),
                "{err}"
            );
        }
    }
}

#[tokio::test]
async fn the_first_admins_password_goes_to_an_owner_only_file_not_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut logged_command = command(dir.path());
    logged_command.env("ALOJAMIENTOS_LOG__FILTER", "info");
    let server = start_with(logged_command).await;
    let password = server.password.clone().expect("read from the file");
    let file = dir.path().join("initial-admin-password");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let client = Client::new();
    let token = login(&client, &server.base, "admin@alojamientos.local", &password).await;
    let logged = server.kill_and_log().await.join("\n");
    assert!(!logged.contains(&password), "the password is not logged");
    assert!(
        logged.contains("initial-admin-password"),
        "its path is: {logged}"
    );
    // Setting a password of one's own removes the file.
    let mut again = start_with(command(dir.path())).await;
    assert!(again.password.is_none());
    let r = client
        .post(format!("{}/api/v1/admin/password", again.base))
        .bearer_auth(login(&client, &again.base, "admin@alojamientos.local", &password).await)
        .json(
            &json!({"current_password": password, "new_password": "mate amargo con tortas fritas"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!file.exists());
    drop(token);
    again.child.kill().await.unwrap();
}
