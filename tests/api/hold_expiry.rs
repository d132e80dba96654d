//! The hold-expiry job works through a backlog in bounded commits and expires all of it.

use std::time::Duration;

use crate::helpers::store::{add_room, open, policy, reserve, stay};
use jiff::ToSpan;
use jiff::civil::date;

#[tokio::test]
async fn a_backlog_of_lapsed_holds_is_expired_by_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let mut policy = policy();
    policy.hold = Duration::from_millis(1);
    let holds = 700;
    let mut taken = tokio::task::JoinSet::new();
    for night in 0..holds {
        let check_in = date(2031, 1, 1).checked_add(night.days()).unwrap();
        let req = stay(acc, check_in, check_in.tomorrow().unwrap(), false);
        let (store, policy) = (store.clone(), policy.clone());
        taken.spawn(async move { reserve(&store, req, policy).await });
    }
    let mut lapse = jiff::Timestamp::UNIX_EPOCH;
    while let Some(hold) = taken.join_next().await {
        let created = hold.unwrap().expect("every hold is taken");
        lapse = lapse.max(created.expires_at.unwrap());
    }
    while jiff::Timestamp::now() <= lapse {
        tokio::task::yield_now().await;
    }
    assert_eq!(store.live_holds().unwrap(), holds as u64);
    let expired = store.expire_lapsed_holds().await.unwrap();
    assert_eq!(
        expired.len(),
        holds as usize,
        "more than two commits' worth"
    );
    assert_eq!(store.live_holds().unwrap(), 0);
}
