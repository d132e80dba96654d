//! The hold-expiry job and the systemd watchdog past unreadable holds.

use std::path::Path;
use std::time::Duration;

use alojamientos::store::Store;
use alojamientos::store::tables::{HOLD_EXPIRY, RESERVATIONS};

use super::{BOGUS, tamper};
use crate::helpers::metric_value;

/// A store with one lapsed hold whose record does not decode.
pub async fn store_with_an_unreadable_lapsed_hold(dir: &Path) {
    let (store, writer) = Store::open(dir, Duration::from_secs(5), 1 << 20).unwrap();
    store.close().await;
    drop(store);
    writer.join().unwrap();
    tamper(dir, |txn| {
        let code = "RES250101abcdef";
        txn.open_table(RESERVATIONS)
            .unwrap()
            .insert(code, BOGUS)
            .unwrap();
        txn.open_table(HOLD_EXPIRY)
            .unwrap()
            .insert((0, code), ())
            .unwrap();
    });
}

#[tokio::test]
async fn the_watchdog_goes_on_pinging_with_an_unreadable_record_in_the_hold_expiry_job() {
    let dir = tempfile::tempdir().unwrap();
    store_with_an_unreadable_lapsed_hold(dir.path()).await;
    let (server, socket) = crate::systemd::start_notified(
        dir.path(),
        &[
            ("ALOJAMIENTOS_JOBS__EXPIRE_HOLDS", "* * * * * *"),
            ("ALOJAMIENTOS_JOBS__STALE_AFTER", "1s"),
        ],
    )
    .await;
    crate::systemd::collect(&socket, Duration::from_secs(2)).await;
    let late = crate::systemd::collect(&socket, Duration::from_secs(1)).await;
    assert!(
        late.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "pings go on past the stale limit: {late:?}"
    );
    let client = reqwest::Client::new();
    let h = server.health(&client).await;
    assert_eq!(h["checks"]["records"]["unreadable"], 1, "{h}");
    let metrics = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let runs = |outcome| {
        metric_value(
            &metrics,
            "job_runs_total",
            &[("job", "expire_holds"), ("outcome", outcome)],
        )
    };
    assert!(runs("ok") >= 2.0, "the job succeeds past the bad record");
    assert_eq!(runs("error"), 0.0);
}

#[tokio::test]
async fn more_unreadable_lapsed_holds_than_one_expiry_commit_holds_neither_loop_nor_block_the_rest()
{
    use crate::helpers::store::{add_room, open, policy, reserve, stay};
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, writer) = open(dir.path());
        store.close().await;
        drop(store);
        writer.join().unwrap();
    }
    // 600 unreadable holds that lapsed long ago (more than two commits' worth of the job).
    tamper(dir.path(), |txn| {
        let mut reservations = txn.open_table(RESERVATIONS).unwrap();
        let mut expiry = txn.open_table(HOLD_EXPIRY).unwrap();
        for i in 0..600 {
            let code = format!("RES250101{i:06x}");
            reservations.insert(code.as_str(), BOGUS).unwrap();
            expiry.insert((i64::from(i), code.as_str()), ()).unwrap();
        }
    });
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let mut short = policy();
    short.hold = Duration::from_millis(1);
    let day = jiff::civil::date(2031, 1, 1);
    let held = reserve(
        &store,
        stay(acc, day, day.tomorrow().unwrap(), false),
        short,
    )
    .await
    .unwrap();
    while jiff::Timestamp::now() <= held.expires_at.unwrap() {
        tokio::task::yield_now().await;
    }
    let run = tokio::time::timeout(Duration::from_secs(20), store.expire_lapsed_holds());
    let expired = run.await.expect("the job ends").unwrap();
    assert_eq!(expired.len(), 1, "the readable one behind them is expired");
    assert_eq!(store.unreadable_records().len(), 600);
    assert_eq!(
        store.live_holds().unwrap(),
        600,
        "the unreadable ones stay indexed"
    );
}
