//! The store on a real redb file: schema version, completion of past stays, reopen.

use std::time::Duration;

use alojamientos::domain::messages::NewEmail;
use alojamientos::domain::reservation::{Actor, Status};
use alojamientos::store::{Replay, Store, StoreError, schema};
use jiff::ToSpan;

use crate::helpers::eventually;
use crate::helpers::store::{add_room, open, policy, reserve, stay};

#[tokio::test]
async fn confirmed_stays_are_completed_once_their_check_out_day_comes() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let today = crate::helpers::store::today();
    let req = stay(acc, today, today.checked_add(2.days()).unwrap(), true);
    let created = reserve(&store, req, policy())
        .await
        .expect("the booking is created");
    let code = created.code.clone();
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(1.day()).unwrap())
            .await
            .unwrap(),
        0,
        "not before check-out"
    );
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(2.days()).unwrap())
            .await
            .unwrap(),
        1
    );
    let r = store.reservation(&code).unwrap().unwrap();
    assert_eq!(r.status, Status::Completed);
    assert_eq!(r.history.last().unwrap().actor, Actor::System);
    assert_eq!(
        store
            .complete_past_stays(today.checked_add(9.days()).unwrap())
            .await
            .unwrap(),
        0,
        "only once"
    );
}

#[tokio::test]
async fn the_schema_version_is_recorded_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        store.close().await;
        drop(store);
        writer.join().unwrap();
    }
    let path = dir.path().join(alojamientos::store::STORE_FILE);
    {
        let db = redb::Database::create(&path).unwrap();
        assert_eq!(schema::version(&db).unwrap(), Some(schema::CURRENT_VERSION));
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap()
            .insert("schema_version", schema::CURRENT_VERSION + 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(dir.path(), Duration::from_secs(5), 1 << 20)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }));
    assert!(err.to_string().contains("roll back"), "{err}");
}

/// Reservations made before guest tokens were derived from the code keep their random
/// tokens: the hash stored then still opens them over HTTP.
#[tokio::test]
async fn tokens_of_reservations_made_before_derived_tokens_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let old_token = alojamientos::secret::random_hex(24);
    let code = {
        let (store, writer) = open(dir.path());
        let acc = add_room(&store, "A").await;
        let today = policy()
            .time_zone
            .to_datetime(jiff::Timestamp::now())
            .date();
        let (from, to) = (10.days(), 12.days());
        let req = stay(acc, today + from, today + to, false);
        let hash = alojamientos::secret::sha256_hex(&old_token);
        let reserved = store.reserve(req, policy(), move |_| hash.clone(), None, |_| None::<()>);
        let Ok(Replay::Fresh(Ok(r))) = reserved.await else {
            panic!("created")
        };
        store.close().await;
        drop(store);
        writer.join().unwrap();
        r.code.to_string()
    };
    let raw = crate::helpers::test_settings(dir.path());
    let app = crate::helpers::TestApp::spawn_in(raw, dir).await;
    let get = |token: String| {
        app.client
            .get(app.url(&format!("/api/v1/reservations/{code}")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get(old_token.clone()).await.unwrap().status(), 200);
    assert_eq!(get(format!("{old_token}0")).await.unwrap().status(), 404);
}

#[tokio::test]
async fn the_email_sender_reads_only_from_the_oldest_pending_message_and_misses_none() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
    store
        .emails_made(0, (1..=5).map(email).collect())
        .await
        .unwrap();
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60);
    let subjects = |m: Vec<alojamientos::domain::messages::EmailMessage>| {
        m.into_iter().map(|m| m.email.subject).collect::<Vec<_>>()
    };
    assert_eq!(subjects(store.due_emails(later, 2).unwrap()), ["n1", "n2"]);
    // 1, 2 and 4 go out; 3 waits for a retry, so the mark stops at 3.
    for id in [1, 2, 4] {
        store.email_sent(id).await.unwrap();
    }
    store
        .email_failed(3, "busy".into(), Some(later))
        .await
        .unwrap();
    assert_eq!(store.email_backlog().unwrap().0, 2);
    let now = jiff::Timestamp::now();
    assert_eq!(subjects(store.due_emails(now, 10).unwrap()), ["n5"]);
    assert_eq!(subjects(store.due_emails(later, 10).unwrap()), ["n3", "n5"]);
    // Messages queued after a pass that read to the end are found too.
    store.email_sent(3).await.unwrap();
    store.email_sent(5).await.unwrap();
    assert_eq!(store.email_backlog().unwrap().0, 0);
    assert!(store.due_emails(later, 10).unwrap().is_empty());
    store.emails_made(0, vec![email(6)]).await.unwrap();
    assert_eq!(store.email_backlog().unwrap().0, 1);
    assert_eq!(subjects(store.due_emails(later, 10).unwrap()), ["n6"]);
    assert_eq!(
        store.emails().unwrap().len(),
        6,
        "the host still sees every email"
    );
}

#[tokio::test]
async fn a_backlog_of_events_is_read_a_page_at_a_time_and_none_is_missed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _writer) = open(dir.path());
    let acc = add_room(&store, "A").await;
    let today = crate::helpers::store::today();
    let holds: i32 = 300;
    for n in 1..=holds {
        let from = today.checked_add(n.days()).unwrap();
        let req = stay(acc, from, from.tomorrow().unwrap(), false);
        reserve(&store, req, policy())
            .await
            .expect("a free night is held");
    }
    let recorded: Vec<u64> = store.outbox().unwrap().iter().map(|(n, _)| *n).collect();
    assert!(
        recorded.len() >= holds as usize,
        "every hold tells the host"
    );
    let (mut read, mut pages) = (Vec::new(), Vec::new());
    loop {
        let page = store.email_events().unwrap();
        let Some(through) = page.through else { break };
        pages.push((page.events.len(), page.more));
        read.extend(page.events.iter().map(|(n, _)| *n));
        store.emails_made(through, vec![]).await.unwrap();
    }
    assert_eq!(read, recorded, "every event once, in order");
    assert!(
        pages
            .iter()
            .all(|(n, _)| *n <= alojamientos::store::EVENT_PAGE),
        "{pages:?}"
    );
    assert!(
        pages.len() >= 2 && pages[0].1,
        "a backlog takes pages: {pages:?}"
    );
}

/// How many emails wait is a count kept beside each change: it follows sends, retries and
/// failures, and a count another version left wrong (it kept none) is put right by the start-up
/// recount whatever was queued since.
#[tokio::test]
async fn the_outbox_pending_count_follows_every_change_and_a_drifted_one_is_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60);
    {
        let (store, writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        store
            .emails_made(0, (1..=6).map(email).collect())
            .await
            .unwrap();
        store.email_sent(1).await.unwrap();
        store
            .email_failed(2, "busy".into(), Some(later))
            .await
            .unwrap();
        store.email_failed(3, "refused".into(), None).await.unwrap();
        // A second send of a sent message and a late failure of it change nothing.
        store.email_sent(1).await.unwrap();
        store.email_failed(1, "late".into(), None).await.unwrap();
        let (pending, oldest) = store.email_backlog().unwrap();
        assert_eq!(pending, 4, "2 (retrying), 4, 5 and 6");
        let first = store.emails().unwrap();
        assert_eq!(oldest, Some(first[1].created_at));
        store.close().await;
        drop(store);
        writer.join().unwrap();
    }
    keep_a_wrong_email_count(dir.path(), 9);
    let (store, _writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
    assert_eq!(
        store.email_backlog().unwrap().0,
        9,
        "the count is what is kept"
    );
    let drifts = store.outbox_count_drift().unwrap();
    // Queued after the drift was read, before it is corrected.
    store.emails_made(0, vec![email(7)]).await.unwrap();
    store.correct_outbox_counts(drifts).await.unwrap();
    assert_eq!(store.email_backlog().unwrap().0, 5);
    assert!(store.outbox_count_drift().unwrap().is_empty());
}

/// Email `n` to a guest, with `n<n>` as its subject.
fn email(n: u32) -> NewEmail {
    NewEmail {
        to: format!("guest{n}@example.com"),
        kind: "guest".into(),
        subject: format!("n{n}"),
        body: String::new(),
    }
}

/// What another version (one that kept no count, after a rollback) can leave: a stopped store's
/// kept count of pending emails set to `count`, whatever its messages say.
fn keep_a_wrong_email_count(dir: &std::path::Path, count: u64) {
    let db = redb::Database::create(dir.join(alojamientos::store::STORE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
        .unwrap()
        .insert("email_outbox_pending", count)
        .unwrap();
    txn.commit().unwrap();
}

/// The server recounts the outboxes when it starts: health reports the emails that wait, not
/// a count another version left wrong.
#[tokio::test]
async fn a_started_server_reports_the_emails_that_wait_not_a_drifted_count() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, writer) = Store::open(dir.path(), Duration::from_secs(5), 1 << 20).unwrap();
        let emails = (1..=3).map(email).collect();
        store.emails_made(0, emails).await.unwrap();
        store.close().await;
        drop(store);
        writer.join().unwrap();
    }
    keep_a_wrong_email_count(dir.path(), 9);
    let server = crate::helpers::binary::start(dir.path()).await;
    let client = reqwest::Client::new();
    let pending =
        || async { server.health(&client).await["checks"]["outbox"]["email_pending"].clone() };
    assert!(
        eventually(Duration::from_secs(10), || async { pending().await == 3 }).await,
        "email_pending still {} after 10 s",
        pending().await
    );
}
