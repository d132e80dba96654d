//! Snapshots as an operator uses them: the RUNBOOK's restore drill runs word for word against a
//! real server whose `data_dir` is relative (backup → check → restore into a scratch directory
//! → serve → smoke test), and `check` / `restore` never change the snapshot they are given.

use std::path::{Path, PathBuf};

use crate::helpers::binary::{BIN, command, login, start_with};
use crate::helpers::free_port;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// The shell block of the RUNBOOK's "Backup and restore drill" section, as written there.
fn runbook_drill() -> String {
    let runbook = include_str!("../../../RUNBOOK.md");
    let section = runbook
        .split("## Backup and restore drill")
        .nth(1)
        .expect("the RUNBOOK has a restore drill");
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("the drill has a sh block");
    block.split("```").next().unwrap().to_owned()
}

fn sha256(path: &Path) -> String {
    alojamientos::store::backup::file_sha256(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbook_restore_drill_runs_verbatim_against_a_server_with_a_relative_data_dir() {
    let prod = tempfile::tempdir().unwrap();
    let config = prod.path().join("alojamientos.toml");
    std::fs::write(
        &config,
        "[server]\ndata_dir = \"data\"\nlisten = \"127.0.0.1:0\"\n\n[log]\nfilter = \"warn\"\n",
    )
    .unwrap();
    let mut serve = tokio::process::Command::new(BIN);
    serve
        .env_clear()
        .current_dir(prod.path())
        .arg("--config")
        .arg(&config)
        .kill_on_drop(true);
    let mut server = start_with(serve).await;
    let client = Client::new();
    let token = login(
        &client,
        &server.base,
        "admin@alojamientos.local",
        server.password.as_deref().unwrap(),
    )
    .await;
    let r = client
        .post(format!("{}/api/v1/admin/accommodations", server.base))
        .bearer_auth(&token)
        .json(&json!({"name": "Cabaña del drill", "kind": "cabin", "capacity": 4, "base_price": "25000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let unit = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let r = client
        .post(format!("{}/api/v1/reservations", server.base))
        .json(&crate::helpers::reserve_body(
            unit,
            &crate::helpers::day(20),
            &crate::helpers::day(23),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // The operator's shell: the repository root (for scripts/), the binary on PATH, the data
    // directory exported as the RUNBOOK says (absolute, unlike the server's own config).
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let drill = runbook_drill();
    let out = tokio::process::Command::new("bash")
        .arg("-e")
        .arg("-c")
        .arg(&drill)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", prod.path())
        .env("CONFIG", &config)
        .env("DRILL_PORT", free_port().to_string())
        .env("ALOJAMIENTOS_SERVER__DATA_DIR", prod.path().join("data"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the drill failed\n--- drill\n{drill}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stderr.contains("snapshot taken by the running server"),
        "{stderr}"
    );
    assert!(stdout.contains("\"reservations\": 1"), "{stdout}");
    assert!(stdout.contains("smoke test passed"), "{stdout}");
    server.crash().await;
}

/// Takes an offline snapshot of a store with one accommodation into `dir/snap.redb`.
async fn snapshot(dir: &Path) -> PathBuf {
    let snap = dir.join("snap.redb");
    let out = command(&dir.join("data"))
        .args(["backup", "--out", snap.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    snap
}

#[tokio::test]
async fn check_and_restore_leave_the_snapshot_untouched_and_it_restores_twice() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path()).await;
    let before = (
        sha256(&snap),
        std::fs::metadata(&snap).unwrap().modified().unwrap(),
    );
    let target = dir.path().join("restored");
    let scratch = dir.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    for verb in [
        vec!["check", snap.to_str().unwrap()],
        vec!["restore", snap.to_str().unwrap()],
        vec!["check", snap.to_str().unwrap()],
        vec!["restore", snap.to_str().unwrap()],
    ] {
        let out = command(&target)
            .env("TMPDIR", &scratch)
            .args(&verb)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{verb:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = (
            sha256(&snap),
            std::fs::metadata(&snap).unwrap().modified().unwrap(),
        );
        assert_eq!(after, before, "{verb:?} changed the snapshot");
    }
    let names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"alojamientos.redb".to_owned()), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.contains(".replaced-")).count(),
        1,
        "the second restore keeps the first one aside: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(".restoring")),
        "{names:?}"
    );
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "check removes its private copy"
    );
}
