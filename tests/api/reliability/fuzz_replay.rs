//! Replays fuzz inputs in the normal `cargo test`, without nightly: the committed seed corpora
//! (`fuzz/corpus/<target>/seed-*`), the minimised corpora a `bench/fuzz.sh` run left on this
//! machine (`min-*`, not committed), and every input that once made a target fail
//! (`fuzz/regressions/<target>/`, committed), through the same harness the cargo-fuzz targets
//! run (`fuzz/harness`).

#[path = "../../../fuzz/harness/mod.rs"]
mod harness;

use std::path::Path;

fn inputs(target: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let committed = dir.ends_with(Path::new("regressions").join(target))
                || name.starts_with("seed-")
                || name.starts_with("min-");
            if committed && entry.path().is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_committed_fuzz_input_replays_cleanly() {
    // The HTTP targets talk to the real binary, not to an app in this process: their
    // requests must not move the metrics other tests of this binary read.
    let dir = tempfile::tempdir().unwrap();
    let mut command = crate::helpers::binary::command(dir.path());
    command.envs(harness::http::SERVER_ENV);
    let server = crate::helpers::binary::start_with(command).await;
    let (email, password) = ("admin@alojamientos.local", server.password.clone().unwrap());
    let client = reqwest::Client::new();
    let token = crate::helpers::binary::login(&client, &server.base, email, &password).await;
    for name in ["Cabaña 1", "Cabaña 2", "Cabaña 3"] {
        crate::helpers::binary::create_room(&client, &server.base, &token, name).await;
    }
    let base = server.base.clone();
    let replayed = tokio::task::spawn_blocking(move || {
        harness::http::connect(&base, email, &password);
        replay_all()
    })
    .await
    .unwrap();
    eprintln!("replayed {replayed} fuzz inputs");
}

fn replay_all() -> usize {
    let mut replayed = 0;
    for (target, run) in harness::TARGETS {
        let files = inputs(target);
        assert!(!files.is_empty(), "no seed corpus for fuzz target {target}");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(
                outcome.is_ok(),
                "fuzz target {target} fails on {}",
                file.display()
            );
            replayed += 1;
        }
    }
    replayed
}
