//! The crash loop: the binary serves a mixed load (holds, confirms, cancels, Mercado Pago
//! notifications, WhatsApp messages, feed syncs, backups) and is killed with SIGKILL at a
//! random moment, `CRASH_KILLS` times (3 in the normal `cargo test`; `bench/crash-loop.sh`
//! runs 50 against the release build). After every kill `alojamientos check` passes on the
//! store, and after every restart every acknowledged write is there with an allowed status
//! and no two live stays of an accommodation overlap. At the end, once the inboxes and
//! outboxes drain: each payment applied once, every acknowledged WhatsApp message answered,
//! and the duplicate outbound messages (sent twice because a kill came between the provider's
//! acceptance and our record of it) counted per kill. A report goes to
//! `target/reliability/crash-loop.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::load::{Ledger, Load, Mix, Target};
use super::world::World;
use crate::helpers::binary::{BIN, login};
use crate::helpers::eventually;
use rand::Rng;
use reqwest::Client;
use serde_json::{Value, json};

const ADMIN: &str = "admin@alojamientos.local";

/// Every reservation, paging through the admin list.
async fn all_reservations(client: &Client, base: &str, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = client
            .get(format!(
                "{base}/api/v1/admin/reservations?limit=500{cursor}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return out,
        }
    }
}

/// Live stays (confirmed, or holds not yet lapsed) of one accommodation that overlap.
fn overlaps(all: &[Value]) -> Vec<String> {
    let now = jiff::Timestamp::now();
    let mut by_unit: BTreeMap<u64, Vec<(String, String, String)>> = BTreeMap::new();
    for r in all {
        let live = match r["status"].as_str() {
            Some("confirmed") => true,
            Some("pre_reserved") => r["expires_at"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| t > now),
            _ => false,
        };
        if live {
            by_unit
                .entry(r["accommodation_id"].as_u64().unwrap())
                .or_default()
                .push((
                    r["check_in"].as_str().unwrap().to_owned(),
                    r["check_out"].as_str().unwrap().to_owned(),
                    r["code"].as_str().unwrap().to_owned(),
                ));
        }
    }
    let mut found = Vec::new();
    for stays in by_unit.values_mut() {
        stays.sort();
        for pair in stays.windows(2) {
            if pair[1].0 < pair[0].1 {
                found.push(format!("{} and {}", pair[0].2, pair[1].2));
            }
        }
    }
    found
}

/// What one restart found wrong.
#[derive(Default, Debug)]
struct Findings {
    lost: Vec<String>,
    wrong_state: Vec<String>,
    overlaps: Vec<String>,
    other: Vec<String>,
}

async fn verify(world: &World, base: &str, token: &str, ledger: &Ledger) -> Findings {
    let mut f = Findings::default();
    let all = all_reservations(&world.client, base, token).await;
    let by_code: BTreeMap<&str, &Value> = all
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), r))
        .collect();
    for (code, expect) in &ledger.holds {
        match by_code.get(code.as_str()) {
            None => f.lost.push(code.clone()),
            Some(r) => {
                let status = r["status"].as_str().unwrap_or("");
                if !expect.allowed().contains(status) {
                    f.wrong_state
                        .push(format!("{code}: {status}, allowed {:?}", expect.allowed()));
                }
            }
        }
    }
    f.overlaps = overlaps(&all);
    if ledger.feed_synced {
        let imported: Value = world
            .admin_json(base, "/api/v1/admin/ical/imported", token)
            .await;
        let n = imported.as_array().map_or(0, Vec::len);
        if n < super::world::FEED_EVENTS.len() {
            f.other
                .push(format!("{n} imported stays after an acknowledged sync"));
        }
    }
    if let Some(newest) = ledger.backups.last().map(std::path::Path::new) {
        // Pruning to backup.keep (3) may remove it, but only for newer complete snapshots
        // (taken before the kill, their answers lost with it).
        let newer = snapshots(newest.parent().unwrap())
            .into_iter()
            .filter(|p| p.file_name() >= newest.file_name())
            .count();
        if !newest.exists() && newer < 3 {
            f.other.push(format!(
                "the newest acknowledged snapshot {} is gone with {newer} newer ones",
                newest.display()
            ));
        }
    }
    f
}

/// The snapshot files in `dir`.
fn snapshots(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "redb"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every recorded notification, WhatsApp message and outbound message is handled.
async fn drained(client: &Client, base: &str) -> bool {
    let h: Value = client
        .get(format!("{base}/api/v1/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = &h["checks"];
    c["mercadopago"]["pending_notifications"] == 0
        && c["whatsapp"]["pending_messages"] == 0
        && c["outbox"]["pending"] == 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let world = World::start().await;
    let mut server = world.serve(&data).await;
    let password = server
        .password
        .clone()
        .expect("a new store prints the admin");
    let mut token = login(&world.client, &server.base, ADMIN, &password).await;
    let units = world.set_up(&server.base, &token).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let next = Arc::new(AtomicU64::new(0));
    let mix = Mix::crash_loop();
    let mut rounds = Vec::new();
    let started = Instant::now();
    for round in 1..=kills {
        let target = Target {
            world: &world,
            base: &server.base,
            token: &token,
            units: &units,
            ledger: ledger.clone(),
            next: next.clone(),
        };
        let load = Load::start(target, &mix);
        let wait = Duration::from_millis(rand::rng().random_range(200..2500));
        tokio::time::sleep(wait).await;
        server.crash().await;
        load.stop().await;
        let check = tokio::process::Command::new(BIN)
            .env_clear()
            .envs(world.settings(&data))
            .arg("check")
            .output()
            .await
            .unwrap();
        assert!(
            check.status.success(),
            "round {round}: alojamientos check failed after the kill: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let restart = Instant::now();
        server = world.serve(&data).await;
        let ready_ms = restart.elapsed().as_millis();
        token = login(&world.client, &server.base, ADMIN, &password).await;
        let snapshot = ledger.lock().unwrap().holds.len();
        let copy = ledger.lock().unwrap().clone();
        let findings = verify(&world, &server.base, &token, &copy).await;
        let partial = std::fs::read_dir(data.join("backups"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                    .count()
            })
            .unwrap_or(0);
        eprintln!(
            "kill {round}/{kills} after {} ms: {} holds acknowledged so far, ready again in {ready_ms} ms, lost {}, wrong state {}, overlaps {}",
            wait.as_millis(),
            snapshot,
            findings.lost.len(),
            findings.wrong_state.len(),
            findings.overlaps.len()
        );
        assert!(
            findings.lost.is_empty(),
            "round {round}: lost {:?}",
            findings.lost
        );
        assert!(
            findings.wrong_state.is_empty(),
            "round {round}: {:?}",
            findings.wrong_state
        );
        assert!(
            findings.overlaps.is_empty(),
            "round {round}: overlapping stays {:?}",
            findings.overlaps
        );
        assert!(
            findings.other.is_empty(),
            "round {round}: {:?}",
            findings.other
        );
        assert_eq!(
            partial, 0,
            "round {round}: an unfinished snapshot was left behind"
        );
        rounds.push(
            json!({"round": round, "killed_after_ms": wait.as_millis() as u64,
            "ready_ms": ready_ms as u64, "holds_acknowledged": snapshot}),
        );
    }

    // The end: let the workers drain, then check payments and outbound messages.
    let base = server.base.clone();
    if !eventually(Duration::from_secs(600), || drained(&world.client, &base)).await {
        let h: Value = world
            .client
            .get(format!("{base}/api/v1/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let outbox = world
            .admin_json(&base, "/api/v1/admin/whatsapp/outbox", &token)
            .await;
        let stuck: Vec<&Value> = outbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "pending")
            .collect();
        panic!("the inboxes and outboxes did not drain: {h:#}\npending WhatsApp: {stuck:#?}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(eventually(Duration::from_secs(30), || drained(&world.client, &base)).await);
    let (payments, whatsapp, acks, total_acks) = {
        let l = ledger.lock().unwrap();
        (
            l.payments.clone(),
            l.whatsapp.clone(),
            l.acks.clone(),
            l.total_acks(),
        )
    };
    let mut applied_twice = Vec::new();
    for (id, code) in &payments {
        let list: Value = world
            .admin_json(
                &base,
                &format!("/api/v1/admin/reservations/{code}/payments"),
                &token,
            )
            .await;
        let records: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["id"] == id.as_str())
            .collect();
        let r: Value = world
            .admin_json(&base, &format!("/api/v1/admin/reservations/{code}"), &token)
            .await;
        let counted: f64 = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["counted"] == true)
            .map(|p| p["amount"].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        let paid: f64 = r["paid_amount"].as_str().unwrap().parse().unwrap();
        if records.len() != 1 || (paid - counted).abs() > 0.001 {
            applied_twice.push(format!(
                "{code} payment {id}: {} records, paid {paid}, counted {counted}",
                records.len()
            ));
        }
    }
    assert!(
        applied_twice.is_empty(),
        "payments not applied exactly once: {applied_twice:?}"
    );
    let answered: BTreeSet<String> = world
        .graph
        .sent()
        .iter()
        .filter_map(|m| m["to"].as_str().map(str::to_owned))
        .collect();
    let unanswered: Vec<&String> = whatsapp.iter().filter(|p| !answered.contains(*p)).collect();
    assert!(
        unanswered.is_empty(),
        "acknowledged WhatsApp messages never answered: {unanswered:?}"
    );

    // Duplicates: messages the provider accepted that our outbox never recorded as sent.
    let outbox: Value = world
        .admin_json(&base, "/api/v1/admin/whatsapp/outbox", &token)
        .await;
    let recorded: BTreeSet<String> = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["wamid"].as_str().map(str::to_owned))
        .collect();
    let accepted = world.graph.sent().len();
    let whatsapp_duplicates = accepted.saturating_sub(recorded.len());
    let mails = world.smtp.received();
    let distinct_mails: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    let email_duplicates = mails.len() - distinct_mails.len();
    let kept = snapshots(&data.join("backups"));
    for snapshot in &kept {
        let out = tokio::process::Command::new(BIN)
            .env_clear()
            .arg("check")
            .arg(snapshot)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("\"checksum_verified\": true"),
            "snapshot {} does not check: {}",
            snapshot.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report = json!({
        "date": jiff::Timestamp::now().to_string(),
        "binary": BIN,
        "kills": kills,
        "seconds": started.elapsed().as_secs(),
        "acknowledged_writes": total_acks,
        "acknowledged_by_kind": acks,
        "lost": 0,
        "snapshots_acknowledged": ledger.lock().unwrap().backups.len(),
        "snapshots_kept_and_checked": kept.len(),
        "payments_notified": payments.len(),
        "payments_applied_twice": 0,
        "whatsapp_messages_acknowledged": whatsapp.len(),
        "whatsapp_sent": accepted,
        "whatsapp_duplicates": whatsapp_duplicates,
        "emails_sent": mails.len(),
        "email_duplicates": email_duplicates,
        "duplicates_per_kill": (whatsapp_duplicates + email_duplicates) as f64 / kills.max(1) as f64,
        "rounds": rounds,
    });
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("crash-loop.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    server.crash().await;
}
