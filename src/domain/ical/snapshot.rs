//! A successful fetch is a snapshot of its feed: this module decides what it changes.
//!
//! Events are keyed by UID within one feed. New UIDs create stays, changed dates move them,
//! `STATUS:CANCELLED` releases them, and so does disappearance — but only after a clean parse,
//! and never for a stay that is already over. A snapshot that would release too much at once
//! (OTAs that regenerate UIDs, half-broken exports) is held back whole.

use std::collections::HashMap;

use jiff::civil::Date;

use super::EventKind;
use super::feed::{FeedEvent, ParsedFeed};
use crate::domain::dates::NightRange;

/// A stay already imported from this feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub uid: String,
    pub range: NightRange,
    pub kind: EventKind,
}

/// Limits on how much one snapshot may release.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChurnGuard {
    /// Largest share (0–1) of the feed's future stays one snapshot may release.
    pub max_share: f64,
    /// Below this many releases the share is not checked (small feeds change a lot).
    pub min_releases: u32,
}

/// Why a stay is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Cancelled,
    Disappeared,
}

/// What a snapshot changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub create: Vec<FeedEvent>,
    /// Known UIDs whose dates or kind changed, with their new values.
    pub update: Vec<FeedEvent>,
    pub release: Vec<(String, Release)>,
    pub unchanged: u32,
    /// Set when the whole snapshot is held back: how many stays it would have released.
    pub held_back: Option<u32>,
}

impl Plan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.release.is_empty()
    }
}

/// Compares a parsed snapshot with what this feed imported before. `accept_churn` is the
/// host's explicit go-ahead for a snapshot the guard would hold back.
pub fn plan(
    known: &[Known],
    feed: &ParsedFeed,
    today: Date,
    guard: ChurnGuard,
    accept_churn: bool,
) -> Plan {
    let is_past = |range: &NightRange| range.check_out() <= today;
    let future: HashMap<&str, &Known> = known
        .iter()
        .filter(|k| !is_past(&k.range))
        .map(|k| (k.uid.as_str(), k))
        .collect();
    let past: Vec<&str> = known
        .iter()
        .filter(|k| is_past(&k.range))
        .map(|k| k.uid.as_str())
        .collect();

    let mut plan = Plan::default();
    for event in &feed.events {
        if past.contains(&event.uid.as_str()) {
            plan.unchanged += 1;
            continue;
        }
        match future.get(event.uid.as_str()) {
            Some(_) if event.cancelled => {
                plan.release.push((event.uid.clone(), Release::Cancelled));
            }
            Some(k) if k.range != event.range || k.kind != event.kind => {
                plan.update.push(event.clone());
            }
            Some(_) => plan.unchanged += 1,
            None if event.cancelled || is_past(&event.range) => {}
            None => plan.create.push(event.clone()),
        }
    }
    if feed.broken == 0 {
        let in_feed: std::collections::HashSet<&str> =
            feed.events.iter().map(|e| e.uid.as_str()).collect();
        let mut gone: Vec<&str> = future
            .keys()
            .copied()
            .filter(|uid| !in_feed.contains(uid))
            .collect();
        gone.sort_unstable();
        plan.release.extend(
            gone.into_iter()
                .map(|uid| (uid.to_owned(), Release::Disappeared)),
        );
    }

    let releases = plan.release.len() as u32;
    let too_many = f64::from(releases) > guard.max_share * future.len() as f64;
    if !accept_churn && releases >= guard.min_releases.max(1) && too_many {
        return Plan {
            held_back: Some(releases),
            ..Plan::default()
        };
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const GUARD: ChurnGuard = ChurnGuard {
        max_share: 0.5,
        min_releases: 3,
    };

    fn today() -> Date {
        date(2027, 3, 1)
    }

    fn range(from: i8, nights: i8) -> NightRange {
        let start = today().checked_add(jiff::Span::new().days(from)).unwrap();
        NightRange::new(
            start,
            start.checked_add(jiff::Span::new().days(nights)).unwrap(),
        )
        .unwrap()
    }

    fn known(uid: &str, from: i8) -> Known {
        Known {
            uid: uid.into(),
            range: range(from, 2),
            kind: EventKind::Reservation,
        }
    }

    fn event(uid: &str, from: i8) -> FeedEvent {
        FeedEvent {
            uid: uid.into(),
            range: range(from, 2),
            kind: EventKind::Reservation,
            cancelled: false,
        }
    }

    fn feed(events: Vec<FeedEvent>, broken: u32) -> ParsedFeed {
        ParsedFeed {
            events,
            broken,
            ignored: 0,
        }
    }

    #[test]
    fn new_uids_create_and_moved_dates_update() {
        let p = plan(
            &[known("a", 5), known("b", 10)],
            &feed(vec![event("a", 5), event("b", 12), event("c", 20)], 0),
            today(),
            GUARD,
            false,
        );
        assert_eq!(p.create, vec![event("c", 20)]);
        assert_eq!(p.update, vec![event("b", 12)]);
        assert!(p.release.is_empty());
        assert_eq!(p.unchanged, 1);
    }

    #[test]
    fn kind_change_is_an_update() {
        let mut block = event("a", 5);
        block.kind = EventKind::Block;
        let p = plan(
            &[known("a", 5)],
            &feed(vec![block.clone()], 0),
            today(),
            GUARD,
            false,
        );
        assert_eq!(p.update, vec![block]);
    }

    #[test]
    fn cancelled_status_releases_and_is_never_created() {
        let mut a = event("a", 5);
        a.cancelled = true;
        let mut z = event("z", 9);
        z.cancelled = true;
        let p = plan(
            &[known("a", 5)],
            &feed(vec![a, z], 0),
            today(),
            GUARD,
            false,
        );
        assert_eq!(p.release, vec![("a".to_owned(), Release::Cancelled)]);
        assert!(p.create.is_empty());
    }

    #[test]
    fn disappearance_releases_only_after_a_clean_parse() {
        let before = [known("a", 5), known("b", 10)];
        let clean = plan(
            &before,
            &feed(vec![event("a", 5)], 0),
            today(),
            GUARD,
            false,
        );
        assert_eq!(clean.release, vec![("b".to_owned(), Release::Disappeared)]);
        let dirty = plan(
            &before,
            &feed(vec![event("a", 5)], 1),
            today(),
            GUARD,
            false,
        );
        assert!(dirty.release.is_empty());
    }

    #[test]
    fn past_stays_are_never_touched_and_past_events_never_created() {
        let before = [known("old", -10), known("ending-today", -2)];
        let mut moved_old = event("old", -20);
        moved_old.cancelled = true;
        let p = plan(
            &before,
            &feed(vec![moved_old, event("new-past", -7)], 0),
            today(),
            GUARD,
            false,
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn an_ongoing_stay_is_still_future() {
        let p = plan(&[known("now", -1)], &feed(vec![], 0), today(), GUARD, true);
        assert_eq!(p.release.len(), 1);
    }

    #[test]
    fn churn_guard_holds_back_the_whole_snapshot() {
        let before: Vec<Known> = (0..6).map(|i| known(&format!("u{i}"), 5 + i)).collect();
        let regenerated: Vec<FeedEvent> = (0..6).map(|i| event(&format!("n{i}"), 5 + i)).collect();
        let p = plan(
            &before,
            &feed(regenerated.clone(), 0),
            today(),
            GUARD,
            false,
        );
        assert_eq!(p.held_back, Some(6));
        assert!(p.is_empty());
        let forced = plan(&before, &feed(regenerated, 0), today(), GUARD, true);
        assert_eq!((forced.release.len(), forced.create.len()), (6, 6));
    }

    #[test]
    fn small_releases_pass_the_guard() {
        let before = [known("a", 5), known("b", 10)];
        let p = plan(&before, &feed(vec![], 0), today(), GUARD, false);
        assert_eq!(p.release.len(), 2, "under min_releases");
        let before: Vec<Known> = (0..10).map(|i| known(&format!("u{i}"), 5 + i)).collect();
        let keep: Vec<FeedEvent> = (0..6).map(|i| event(&format!("u{i}"), 5 + i)).collect();
        let p = plan(&before, &feed(keep, 0), today(), GUARD, false);
        assert_eq!(p.release.len(), 4, "40% is under the 50% share");
    }

    proptest! {
        /// Whatever the feed says, a plan never touches a past stay, never releases more than
        /// the guard allows without consent, and only updates or releases known UIDs.
        #[test]
        fn plans_respect_their_invariants(
            known_starts in proptest::collection::vec(-20i8..40, 0..12),
            feed_starts in proptest::collection::vec((0usize..16, -20i8..40, any::<bool>()), 0..14),
            broken in 0u32..2,
        ) {
            let before: Vec<Known> = known_starts
                .iter()
                .enumerate()
                .map(|(i, s)| known(&format!("u{i}"), *s))
                .collect();
            let mut events: Vec<FeedEvent> = Vec::new();
            for (i, s, cancelled) in &feed_starts {
                let uid = format!("u{i}");
                if events.iter().all(|e| e.uid != uid) {
                    events.push(FeedEvent { cancelled: *cancelled, ..event(&uid, *s) });
                }
            }
            let p = plan(&before, &feed(events, broken), today(), GUARD, false);
            let past: Vec<&str> = before
                .iter()
                .filter(|k| k.range.check_out() <= today())
                .map(|k| k.uid.as_str())
                .collect();
            let future = before.len() - past.len();
            for uid in p.update.iter().map(|e| &e.uid).chain(p.release.iter().map(|r| &r.0)) {
                prop_assert!(!past.contains(&uid.as_str()));
                prop_assert!(before.iter().any(|k| &k.uid == uid));
            }
            for e in &p.create {
                prop_assert!(before.iter().all(|k| k.uid != e.uid));
                prop_assert!(e.range.check_out() > today() && !e.cancelled);
            }
            let released = p.release.len() as f64;
            prop_assert!(p.release.len() < 3 || released <= 0.5 * future as f64);
        }
    }
}
