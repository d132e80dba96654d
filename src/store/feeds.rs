//! Import feeds. A feed's snapshot is planned and applied inside one write, so what it
//! releases and creates is decided against exactly what is stored (the stays themselves are
//! `imported.rs`).

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadableTable, WriteTransaction};

use super::accommodations::load_for_write;
use super::imported::{Conflict, feed_stays, overlapping_reservations, put_stay, remove_stay};
use super::tables::{FEED_UIDS, FEEDS, IMPORTED, META, OCCUPANCY, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError, outbox};
use crate::domain::events::{self, Audience, DomainEvent};
use crate::domain::ical::EventKind;
use crate::domain::ical::feed::{FeedEvent, ParsedFeed};
use crate::domain::ical::import::{
    Feed, FeedCounts, FeedSpec, FeedState, ImportedStay, imported_code,
};
use crate::domain::ical::snapshot::{ChurnGuard, Known, Plan, plan};
use crate::domain::ids::AccommodationId;

const NEXT_FEED_ID: &str = "next_feed_id";

/// Why a feed operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("no accommodation with that id")]
    AccommodationNotFound,
    #[error("no feed with that id on that accommodation")]
    NotFound,
    #[error("this accommodation already has {max} feeds (ical.max_feeds_per_accommodation)")]
    TooMany { max: u32 },
}

/// What applying one snapshot did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub created: u32,
    pub moved: u32,
    pub released: u32,
    /// Created or moved stays that now overlap local reservations.
    pub conflicts: Vec<Conflict>,
    /// Releases held back by the churn guard (the snapshot was not applied).
    pub held_back: Option<u32>,
}

/// The snapshot to apply and the rules for it.
pub struct Snapshot {
    pub feed_id: u64,
    /// The address it was fetched from: if the host changed it meanwhile, nothing is applied.
    pub url: String,
    pub parsed: ParsedFeed,
    pub today: Date,
    pub guard: ChurnGuard,
    pub accept_churn: bool,
}

fn load_feed(txn: &WriteTransaction, id: u64) -> Result<Option<Feed>, StoreError> {
    let table = txn.open_table(FEEDS)?;
    table
        .get(id)?
        .map(|v| decode_at(&FEEDS, id, v.value()))
        .transpose()
}

fn save_feed(txn: &WriteTransaction, feed: &Feed) -> Result<(), StoreError> {
    txn.open_table(FEEDS)?
        .insert(feed.id, encode(feed).as_slice())?;
    Ok(())
}

fn count_held(stays: &[ImportedStay], today: Date) -> (u32, u32) {
    stays
        .iter()
        .filter(|s| s.range.check_out() > today)
        .fold((0, 0), |(r, b), s| match s.kind {
            EventKind::Reservation => (r + 1, b),
            EventKind::Block => (r, b + 1),
        })
}

/// Applies `plan`. A stored stay that does not decode is left as it is (noted): it keeps
/// holding its dates.
fn apply(
    txn: &WriteTransaction,
    feed: &Feed,
    plan: Plan,
    (now, unreadable): (Timestamp, &Unreadable),
) -> Result<Applied, StoreError> {
    let mut applied = Applied {
        held_back: plan.held_back,
        ..Applied::default()
    };
    let existing = |uid: &str| -> Result<Option<ImportedStay>, StoreError> {
        let code = txn
            .open_table(FEED_UIDS)?
            .get((feed.id, uid))?
            .map(|v| v.value().to_owned());
        let Some(code) = code else { return Ok(None) };
        let table = txn.open_table(IMPORTED)?;
        let found = table
            .get(code.as_str())?
            .map(|v| decode_at(&IMPORTED, code.as_str(), v.value()));
        Ok(unreadable.skip(found.transpose())?.flatten())
    };
    for (uid, _) in &plan.release {
        if let Some(stay) = existing(uid)? {
            remove_stay(txn, &stay)?;
            applied.released += 1;
        }
    }
    let mut changed = Vec::new();
    for event in plan.update {
        if let Some(mut stay) = existing(&event.uid)? {
            remove_stay(txn, &stay)?;
            stay.range = event.range;
            stay.kind = event.kind;
            stay.updated_at = now;
            put_stay(txn, &stay)?;
            applied.moved += 1;
            changed.push(stay);
        }
    }
    for FeedEvent {
        uid, range, kind, ..
    } in plan.create
    {
        let code = {
            let table = txn.open_table(IMPORTED)?;
            loop {
                let code = imported_code(rand::random());
                if table.get(code.as_str())?.is_none() {
                    break code;
                }
            }
        };
        let stay = ImportedStay {
            code,
            feed_id: feed.id,
            accommodation_id: feed.accommodation_id,
            source: feed.spec.source,
            uid,
            range,
            kind,
            imported_at: now,
            updated_at: now,
        };
        put_stay(txn, &stay)?;
        applied.created += 1;
        changed.push(stay);
    }
    let occupancy_table = txn.open_table(OCCUPANCY)?;
    for stay in changed {
        let reservations = overlapping_reservations(&occupancy_table, &stay, now)?;
        if let Some(first) = reservations.first() {
            let mut event = DomainEvent::new(
                events::EventKind::IcalConflict,
                Audience::Host,
                Some(first.clone()),
                now,
            );
            event.imported_code = Some(stay.code.clone());
            outbox::push(txn, &event)?;
            applied.conflicts.push(Conflict { stay, reservations });
        }
    }
    Ok(applied)
}

impl Store {
    /// Adds a feed, unless the accommodation has `max` already; it is due at once.
    pub async fn create_feed(
        &self,
        accommodation_id: u64,
        spec: FeedSpec,
        max: u32,
    ) -> Result<Result<Feed, FeedError>, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                if load_for_write(txn, AccommodationId::new(accommodation_id))?.is_none() {
                    return Ok(Err(FeedError::AccommodationNotFound));
                }
                let mut existing = 0;
                for entry in txn.open_table(FEEDS)?.iter()? {
                    let (k, v) = entry?;
                    let decoded = decode_at(&FEEDS, k.value(), v.value());
                    if let Some(feed) = unreadable.skip::<Feed>(decoded)? {
                        existing += u32::from(feed.accommodation_id == accommodation_id);
                    }
                }
                if existing >= max {
                    return Ok(Err(FeedError::TooMany { max }));
                }
                let id = {
                    let mut meta = txn.open_table(META)?;
                    let id = meta.get(NEXT_FEED_ID)?.map_or(1, |v| v.value());
                    meta.insert(NEXT_FEED_ID, id + 1)?;
                    id
                };
                let now = Timestamp::now();
                let feed = Feed {
                    id,
                    accommodation_id,
                    spec,
                    created_at: now,
                    state: FeedState {
                        next_run: Some(now),
                        ..FeedState::default()
                    },
                };
                save_feed(txn, &feed)?;
                Ok(Ok(feed))
            })
            .await
    }

    /// Every feed, optionally of one accommodation, by id.
    pub fn feeds(&self, accommodation_id: Option<u64>) -> Result<Vec<Feed>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(FEEDS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&FEEDS, k.value(), v.value());
                if let Some(feed) = self.unreadable.skip::<Feed>(decoded)?
                    && accommodation_id.is_none_or(|a| a == feed.accommodation_id)
                {
                    out.push(feed);
                }
            }
            Ok(out)
        })
    }

    pub fn feed(&self, id: u64) -> Result<Option<Feed>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(FEEDS)?;
            table
                .get(id)?
                .map(|v| decode_at(&FEEDS, id, v.value()))
                .transpose()
        })
    }

    /// Changes what the host set on a feed. A new address or re-enabling makes it due at once.
    pub async fn update_feed(
        &self,
        accommodation_id: u64,
        id: u64,
        change: impl FnOnce(&mut FeedSpec) + Send + 'static,
    ) -> Result<Result<Feed, FeedError>, StoreError> {
        self.writer
            .write(move |txn| {
                let Some(mut feed) =
                    load_feed(txn, id)?.filter(|f| f.accommodation_id == accommodation_id)
                else {
                    return Ok(Err(FeedError::NotFound));
                };
                let before = feed.spec.clone();
                change(&mut feed.spec);
                if feed.spec.url != before.url {
                    feed.state.etag = None;
                    feed.state.last_modified = None;
                }
                if feed.spec.url != before.url || (feed.spec.enabled && !before.enabled) {
                    feed.state.next_run = Some(Timestamp::now());
                    feed.state.failures = 0;
                }
                save_feed(txn, &feed)?;
                Ok(Ok(feed))
            })
            .await
    }

    /// Removes a feed and releases every date it imported.
    pub async fn delete_feed(
        &self,
        accommodation_id: u64,
        id: u64,
    ) -> Result<Result<Feed, FeedError>, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let Some(feed) =
                    load_feed(txn, id)?.filter(|f| f.accommodation_id == accommodation_id)
                else {
                    return Ok(Err(FeedError::NotFound));
                };
                for stay in feed_stays(txn, id, &unreadable)? {
                    remove_stay(txn, &stay)?;
                }
                txn.open_table(FEEDS)?.remove(id)?;
                Ok(Ok(feed))
            })
            .await
    }

    /// Updates the fetch state of a feed (after a failure or an unchanged response). `None`
    /// when the feed is gone.
    pub async fn update_feed_state(
        &self,
        id: u64,
        change: impl FnOnce(&mut FeedState) + Send + 'static,
    ) -> Result<Option<Feed>, StoreError> {
        self.writer
            .write(move |txn| {
                let Some(mut feed) = load_feed(txn, id)? else {
                    return Ok(None);
                };
                change(&mut feed.state);
                save_feed(txn, &feed)?;
                Ok(Some(feed))
            })
            .await
    }

    /// Plans and applies a parsed snapshot against the feed's stored stays, then lets
    /// `record` update the feed's state, all in one commit. `None` when the feed is gone or its
    /// address changed since the fetch.
    pub async fn apply_snapshot(
        &self,
        snapshot: Snapshot,
        record: impl FnOnce(&mut FeedState, &Applied) + Send + 'static,
    ) -> Result<Option<(Feed, Applied)>, StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let Some(mut feed) = load_feed(txn, snapshot.feed_id)?
                    .filter(|f| f.spec.url.as_str() == snapshot.url)
                else {
                    return Ok(None);
                };
                let stored = feed_stays(txn, feed.id, &unreadable)?;
                let known: Vec<Known> = stored
                    .iter()
                    .map(|s| Known {
                        uid: s.uid.clone(),
                        range: s.range,
                        kind: s.kind,
                    })
                    .collect();
                let plan = plan(
                    &known,
                    &snapshot.parsed,
                    snapshot.today,
                    snapshot.guard,
                    snapshot.accept_churn,
                );
                let unchanged = plan.is_empty();
                let applied = apply(txn, &feed, plan, (Timestamp::now(), &unreadable))?;
                let now_stored = if unchanged {
                    stored
                } else {
                    feed_stays(txn, feed.id, &unreadable)?
                };
                let (reservations, blocks) = count_held(&now_stored, snapshot.today);
                feed.state.counts = FeedCounts {
                    events: snapshot.parsed.events.len() as u32,
                    broken: snapshot.parsed.broken,
                    ignored: snapshot.parsed.ignored,
                    reservations,
                    blocks,
                    held_back: applied.held_back.unwrap_or(0),
                };
                record(&mut feed.state, &applied);
                save_feed(txn, &feed)?;
                Ok(Some((feed, applied)))
            })
            .await
    }
}
