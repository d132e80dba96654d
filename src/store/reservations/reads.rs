//! Reading reservations: one by code, a filtered page newest first (the admin list, the
//! WhatsApp bot's lookups), and every one (CSV export, stats). A record that does not decode is
//! skipped and noted, so one bad record never hides the others.

use redb::ReadTransaction;

use crate::domain::dates::NightRange;
use crate::domain::ids::{AccommodationId, ReservationCode};
use crate::domain::reservation::{Reservation, Status};
use crate::store::archive::ARCHIVED;
use crate::store::tables::RESERVATIONS;
use crate::store::unreadable::{Unreadable, decode_at};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Default)]
pub struct ReservationFilter {
    pub status: Option<Status>,
    pub accommodation_id: Option<AccommodationId>,
    /// Stays with at least one night in `[from, to)`.
    pub window: Option<NightRange>,
    /// Case-insensitive text in code, name, phone or email.
    pub text: Option<String>,
}

impl ReservationFilter {
    fn matches(&self, r: &Reservation) -> bool {
        self.status.is_none_or(|s| s == r.status)
            && self
                .accommodation_id
                .is_none_or(|a| a == r.accommodation_id)
            && self.window.is_none_or(|w| w.overlaps(&r.range))
            && self.text.as_deref().is_none_or(|t| {
                let t = t.to_lowercase();
                r.code.as_str().to_lowercase().contains(&t)
                    || r.contact.name().to_lowercase().contains(&t)
                    || r.contact.phone().contains(&t)
                    || r.contact
                        .email()
                        .is_some_and(|e| e.to_lowercase().contains(&t))
            })
    }
}

/// One page of reservations, newest code first.
#[derive(Debug, Clone)]
pub struct ReservationPage {
    pub items: Vec<Reservation>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Visits reservations newest first (before `before`), the live file's and the archive's
/// merged by code (the live record wins a code in both), skipping and noting unreadable ones,
/// until `visit` says stop.
fn scan(
    (live, archived): (&ReadTransaction, &ReadTransaction),
    unreadable: &Unreadable,
    mut visit: impl FnMut(Reservation) -> bool,
    before: Option<&str>,
) -> Result<(), StoreError> {
    let live = live.open_table(RESERVATIONS)?;
    let archived = archived.open_table(ARCHIVED)?;
    let (mut live, mut archived) = match before {
        Some(cursor) => (live.range(..cursor)?.rev(), archived.range(..cursor)?.rev()),
        None => (
            live.range::<&str>(..)?.rev(),
            archived.range::<&str>(..)?.rev(),
        ),
    };
    let (mut l, mut a) = (live.next().transpose()?, archived.next().transpose()?);
    loop {
        let from_live = match (&l, &a) {
            (None, None) => return Ok(()),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((lk, _)), Some((ak, _))) => {
                if lk.value() == ak.value() {
                    a = archived.next().transpose()?;
                    continue;
                }
                lk.value() > ak.value()
            }
        };
        let decoded = if from_live {
            let (k, v) = l.take().expect("matched above");
            l = live.next().transpose()?;
            unreadable.skip(decode_at(&RESERVATIONS, k.value(), v.value()))?
        } else {
            let (k, v) = a.take().expect("matched above");
            a = archived.next().transpose()?;
            unreadable.skip(decode_at(&ARCHIVED, k.value(), v.value()))?
        };
        if let Some(r) = decoded
            && !visit(r)
        {
            return Ok(());
        }
    }
}

impl Store {
    /// Reservation `code`; [`StoreError::Unreadable`] when its record does not decode.
    pub fn reservation(&self, code: &ReservationCode) -> Result<Option<Reservation>, StoreError> {
        let live = self.read(|txn| {
            let table = txn.open_table(RESERVATIONS)?;
            table
                .get(code.as_str())?
                .map(|v| decode_at(&RESERVATIONS, code.as_str(), v.value()))
                .transpose()
        })?;
        match live {
            Some(r) => Ok(Some(r)),
            None => self.archive.get(code.as_str()).inspect_err(|e| {
                self.unreadable.note_error(e);
            }),
        }
    }

    /// A page of reservations matching `filter`, newest first, after `cursor`.
    pub fn list_reservations(
        &self,
        filter: &ReservationFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ReservationPage, StoreError> {
        self.read(|txn| {
            let archived = self.archive.begin_read()?;
            let mut items = Vec::with_capacity(limit + 1);
            scan(
                (txn, &archived),
                &self.unreadable,
                |r| {
                    if filter.matches(&r) {
                        items.push(r);
                    }
                    items.len() <= limit
                },
                cursor,
            )?;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|r| r.code.to_string())
            } else {
                None
            };
            Ok(ReservationPage { items, next_cursor })
        })
    }

    /// Every reservation matching `filter`, newest first (for CSV export).
    pub fn all_reservations(
        &self,
        filter: &ReservationFilter,
    ) -> Result<Vec<Reservation>, StoreError> {
        let mut items = Vec::new();
        self.each_reservation(|r| {
            if filter.matches(&r) {
                items.push(r);
            }
        })?;
        Ok(items)
    }

    /// Visits every reservation from one snapshot, newest first.
    pub fn each_reservation(&self, mut visit: impl FnMut(Reservation)) -> Result<(), StoreError> {
        self.read(|txn| {
            let archived = self.archive.begin_read()?;
            scan(
                (txn, &archived),
                &self.unreadable,
                |r| {
                    visit(r);
                    true
                },
                None,
            )
        })
    }
}
