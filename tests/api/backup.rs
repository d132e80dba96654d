//! Backups: a snapshot taken under write load restores every reservation acknowledged before
//! it began; scheduled snapshots with retention and metrics; restore refuses a running server
//! and keeps the replaced store; check catches a damaged snapshot; health warns when stale.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::helpers::binary::{HoldLoad, create_room, login, missing_reservations, start, verb};
use crate::helpers::{TestApp, body, eventually};
use reqwest::{Client, StatusCode};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_restores_every_reservation_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let email = "admin@alojamientos.local";
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, email, &password).await;
    let mut units = Vec::new();
    for i in 0..8 {
        units.push(create_room(&client, &server.base, &token, &format!("U{i}")).await);
    }
    let load = HoldLoad::start(&client, &server.base, &units, 16);
    let loaded = || async { load.acknowledged().len() >= 200 };
    assert!(eventually(Duration::from_secs(60), loaded).await);
    let before = load.acknowledged();
    let out = dir.path().join("offsite").join("snap.redb");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let (ok, stdout, stderr) = verb(dir.path(), &["backup", "--out", out.to_str().unwrap()]).await;
    assert!(ok, "backup failed: {stderr}");
    assert!(stderr.contains("running server"), "{stderr}");
    let info: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["path"], out.to_str().unwrap());
    let during = load.acknowledged().len();
    assert!(
        eventually(Duration::from_secs(30), || async {
            load.acknowledged().len() > during + 50
        })
        .await
    );
    load.stop().await;
    assert!(
        info["reservations"].as_u64().unwrap() >= before.len() as u64,
        "{info}"
    );
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    let restored_dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = verb(restored_dir.path(), &["restore", out.to_str().unwrap()]).await;
    assert!(ok, "restore failed: {stderr}");
    let (ok, stdout, stderr) = verb(restored_dir.path(), &["check"]).await;
    assert!(ok, "check failed: {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["reservations"], info["reservations"]);

    let restored = start(restored_dir.path()).await;
    let token = login(&client, &restored.base, email, &password).await;
    let missing = missing_reservations(&client, &restored.base, &token, &before).await;
    assert!(
        missing.is_empty(),
        "{} of {} reservations acknowledged before the backup are missing",
        missing.len(),
        before.len()
    );
}

#[tokio::test]
async fn scheduled_backups_are_checksummed_pruned_to_keep_and_measured() {
    let app = TestApp::spawn_with(|c| {
        c.backup.schedule = "* * * * * *".into();
        c.backup.keep = 2;
    })
    .await;
    let backups = app.dir.path().join("backups");
    let three_runs = || async {
        let body = app.get("/metrics").await.text().await.unwrap();
        crate::helpers::metric_value(&body, "backup_runs_total", &[("outcome", "ok")]) >= 3.0
    };
    assert!(eventually(Duration::from_secs(20), three_runs).await);
    let snaps: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "redb"))
        .collect();
    assert!(
        snaps.len() <= 3,
        "pruned to keep (one may be in flight): {snaps:?}"
    );
    for snap in &snaps {
        let mut sums = snap.as_os_str().to_owned();
        sums.push(".sha256");
        assert!(
            Path::new(&sums).exists(),
            "{} has its checksum",
            snap.display()
        );
    }
    let last = app
        .metric("backup_last_success_timestamp_seconds", &[])
        .await;
    assert!(last > 1.7e9, "{last}");
    assert!(app.metric("backup_size_bytes", &[]).await > 0.0);
    assert!(app.metric("backup_duration_seconds_count", &[]).await >= 3.0);
    let h = body(app.get("/api/v1/healthz").await).await;
    assert_eq!(h["checks"]["backup"]["status"], "ok");
    assert!(h["checks"]["backup"]["last_success"].is_string());
}

#[tokio::test]
async fn the_backup_endpoint_needs_an_operator_and_answers_where_the_snapshot_is() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(app.url("/api/v1/admin/backups"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body(r).await["error"], "unauthorized");
    let r = app
        .client
        .post(app.url("/api/v1/admin/backups"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .admin_post("/api/v1/admin/backups", serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let info = body(r).await;
    let path = info["path"].as_str().unwrap();
    assert!(Path::new(path).starts_with(app.dir.path().join("backups")));
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);
    let list = body(app.admin_get("/api/v1/admin/backups").await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn health_warns_when_the_newest_backup_is_older_than_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let old = backups.join("alojamientos-20200101T000000.000Z.redb");
    let f = std::fs::File::create(&old).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3 * 86_400))
        .unwrap();
    drop(f);
    let mut raw = crate::helpers::test_settings(dir.path());
    raw.backup.stale_after = "26h".into();
    let app = TestApp::spawn_in(raw, dir).await;
    let r = app.get("/api/v1/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = body(r).await;
    assert_eq!(h["checks"]["backup"]["status"], "degraded");
    assert!(h["checks"]["backup"]["age_hours"].as_f64().unwrap() > 70.0);
    assert_eq!(h["status"], "degraded");
}

#[tokio::test]
async fn restore_refuses_while_the_server_runs_and_keeps_the_replaced_store() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("offline.redb");
    let (ok, _, stderr) = verb(dir.path(), &["backup", "--out", snap.to_str().unwrap()]).await;
    assert!(ok, "offline backup: {stderr}");
    assert!(!stderr.contains("running server"));
    let mut server = start(dir.path()).await;
    let (ok, _, stderr) = verb(dir.path(), &["restore", snap.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(stderr.contains("already in use"), "{stderr}");
    let (ok, _, stderr) = verb(dir.path(), &["check"]).await;
    assert!(!ok);
    assert!(stderr.contains("backup --out"), "{stderr}");
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();

    let (ok, _, stderr) = verb(dir.path(), &["restore", snap.to_str().unwrap()]).await;
    assert!(ok, "{stderr}");
    let mut aside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some(name.split_once(".replaced-")?.0.to_owned()))
        .collect();
    aside.sort();
    let expected = ["alojamientos-archive.redb", "alojamientos.redb"];
    assert_eq!(
        aside, expected,
        "the store and its archive, once each: {stderr}"
    );
}

#[tokio::test]
async fn check_and_restore_refuse_a_damaged_or_unsigned_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.redb");
    let (ok, _, stderr) = verb(dir.path(), &["backup", "--out", snap.to_str().unwrap()]).await;
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = verb(dir.path(), &["check", snap.to_str().unwrap()]).await;
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["checksum_verified"],
        true
    );
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&snap, &bytes).unwrap();
    let (ok, _, stderr) = verb(dir.path(), &["check", snap.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let target = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = verb(target.path(), &["restore", snap.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let unsigned = dir.path().join("unsigned.redb");
    std::fs::copy(&snap, &unsigned).unwrap();
    let (ok, _, stderr) = verb(target.path(), &["restore", unsigned.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(stderr.contains("no checksum file"), "{stderr}");
    assert!(!target.path().join("alojamientos.redb").exists());
}
