//! No double booking under concurrency, over real HTTP.

use std::sync::Arc;

use crate::helpers::{TestApp, body, day, reserve_body};
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn statuses(app: &Arc<TestApp>, bodies: Vec<Value>) -> Vec<StatusCode> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let app = app.clone();
            tokio::spawn(async move { app.post("/api/v1/reservations", b).await.status() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(statuses: &[StatusCode], s: StatusCode) -> usize {
    statuses.iter().filter(|x| **x == s).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_identical_requests_give_one_hold() {
    let app = Arc::new(TestApp::spawn().await);
    let id = app.accommodation(json!({})).await;
    let n = 200;
    let got = statuses(
        &app,
        (0..n)
            .map(|_| reserve_body(id, &day(20), &day(23)))
            .collect(),
    )
    .await;
    assert_eq!(count(&got, StatusCode::CREATED), 1, "{got:?}");
    assert_eq!(count(&got, StatusCode::CONFLICT), n - 1);
    let overlap = app
        .metric("reservations_date_overlap_total", &[("channel", "web")])
        .await;
    assert!(overlap >= (n - 1) as f64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_but_different_ranges_give_one_winner() {
    let app = Arc::new(TestApp::spawn().await);
    let id = app.accommodation(json!({})).await;
    // Every range contains the night of day 30; they differ in start and length.
    let bodies: Vec<Value> = (0..240)
        .map(|i| {
            let start = 30 - (i % 6) as i64;
            let end = 31 + (i / 6 % 5) as i64;
            reserve_body(id, &day(start), &day(end))
        })
        .collect();
    let got = statuses(&app, bodies).await;
    assert_eq!(count(&got, StatusCode::CREATED), 1, "{got:?}");
    assert_eq!(count(&got, StatusCode::CONFLICT), 239);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_confirms_of_one_hold_give_one_success() {
    let app = Arc::new(TestApp::spawn().await);
    let id = app.accommodation(json!({})).await;
    let hold = body(app.reserve(id, &day(5), &day(8)).await).await;
    let code = hold["code"].as_str().unwrap().to_owned();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, code) = (app.clone(), code.clone());
            tokio::spawn(async move {
                let r = app.act(&code, "confirm", json!({})).await;
                (r.status(), body(r).await)
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let (status, b) = t.await.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(b["error"], "invalid_state"),
            other => panic!("unexpected {other}: {b}"),
        }
    }
    assert_eq!(ok, 1);
    let r = body(
        app.admin_get(&format!("/api/v1/admin/reservations/{code}"))
            .await,
    )
    .await;
    assert_eq!(
        r["history"].as_array().unwrap().len(),
        2,
        "created + one confirmation"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Reserve {
        unit: usize,
        start: i64,
        nights: i64,
    },
    Cancel(usize),
    Confirm(usize),
    /// Let holds (300 ms) lapse, so later requests may take their dates.
    LetTimePass,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..2, 1i64..15, 1i64..5).prop_map(|(unit, start, nights)| Op::Reserve { unit, start, nights }),
        2 => (0usize..64).prop_map(Op::Cancel),
        2 => (0usize..64).prop_map(Op::Confirm),
        1 => Just(Op::LetTimePass),
    ]
}

/// Runs the ops (several at a time) and then checks that no two stays that hold dates overlap.
async fn run_ops(ops: Vec<Op>) {
    let app =
        Arc::new(TestApp::spawn_with(|c| c.reservations.hold_duration = "300ms".into()).await);
    let units = [
        app.accommodation(json!({})).await,
        app.accommodation(json!({})).await,
    ];
    let mut codes: Vec<String> = Vec::new();
    for chunk in ops.chunks(4) {
        let mut tasks = Vec::new();
        for op in chunk.iter().cloned() {
            let app = app.clone();
            let pick = |i: usize| (!codes.is_empty()).then(|| codes[i % codes.len()].clone());
            let target = match &op {
                Op::Cancel(i) | Op::Confirm(i) => pick(*i),
                _ => None,
            };
            tasks.push(tokio::spawn(async move {
                match op {
                    Op::Reserve {
                        unit,
                        start,
                        nights,
                    } => {
                        let r = app
                            .reserve(units[unit], &day(start), &day(start + nights))
                            .await;
                        assert!(
                            matches!(r.status(), StatusCode::CREATED | StatusCode::CONFLICT),
                            "{}",
                            r.status()
                        );
                        if r.status() == StatusCode::CREATED {
                            Some(body(r).await["code"].as_str().unwrap().to_owned())
                        } else {
                            None
                        }
                    }
                    Op::Cancel(_) | Op::Confirm(_) => {
                        if let Some(code) = target {
                            let verb = if matches!(op, Op::Cancel(_)) {
                                "cancel"
                            } else {
                                "confirm"
                            };
                            let r = app
                                .admin_post(
                                    &format!("/api/v1/admin/reservations/{code}/{verb}"),
                                    json!({"reason": "test"}),
                                )
                                .await;
                            assert!(
                                matches!(r.status(), StatusCode::OK | StatusCode::CONFLICT),
                                "{}",
                                r.status()
                            );
                        }
                        None
                    }
                    Op::LetTimePass => {
                        tokio::time::sleep(std::time::Duration::from_millis(350)).await;
                        None
                    }
                }
            }));
        }
        for t in tasks {
            codes.extend(t.await.unwrap());
        }
    }
    let list = body(app.admin_get("/api/v1/admin/reservations?limit=500").await).await;
    let now = jiff::Timestamp::now();
    let blocking: Vec<(u64, String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["status"] == "confirmed"
                || (r["status"] == "pre_reserved"
                    && r["expires_at"]
                        .as_str()
                        .unwrap()
                        .parse::<jiff::Timestamp>()
                        .unwrap()
                        > now)
        })
        .map(|r| {
            (
                r["accommodation_id"].as_u64().unwrap(),
                r["check_in"].as_str().unwrap().to_owned(),
                r["check_out"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (i, a) in blocking.iter().enumerate() {
        for b in &blocking[i + 1..] {
            let overlap = a.0 == b.0 && a.1 < b.2 && b.1 < a.2;
            assert!(!overlap, "two stays hold the same nights: {a:?} {b:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn random_create_cancel_confirm_expire_never_double_books(ops in prop::collection::vec(op(), 5..40)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(run_ops(ops));
    }
}
