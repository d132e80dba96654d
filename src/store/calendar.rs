//! What the iCal export of an accommodation reads: its settings (token, UID key) and every
//! stay that holds its dates, from one snapshot.

use jiff::Timestamp;
use jiff::civil::Date;
use redb::{ReadTransaction, ReadableTable};

use super::accommodations::{AccommodationError, load, load_for_write};
use super::tables::{
    BLOCKS, CALENDAR_CHANGED, ICAL_EXPORTS, IMPORTED, OCCUPANCY, RESERVATIONS, decode, encode,
};
use super::{Store, StoreError, occupancy};
use crate::domain::dates::NightRange;
use crate::domain::ical::export::ExportSettings;
use crate::domain::ids::AccommodationId;

/// How an exported stay is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportedKind {
    /// A booking or a live hold.
    Reserved,
    /// An owner block or an imported stay.
    Blocked,
}

/// One stay of the export, before it gets its public UID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportItem {
    pub code: String,
    pub range: NightRange,
    pub changed_at: Timestamp,
    pub kind: ExportedKind,
}

/// What decides whether a rendered export is still current, read without scanning stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportHead {
    pub accommodation_name: String,
    pub settings: ExportSettings,
    /// Last change of anything holding the accommodation's dates; strictly increasing.
    pub changed: Timestamp,
}

/// Everything one export response needs.
#[derive(Debug, Clone)]
pub struct CalendarExport {
    pub head: ExportHead,
    pub items: Vec<ExportItem>,
    /// The latest change of what the calendar shows (including holds that lapsed since).
    pub last_modified: Timestamp,
    /// When the first live hold in it lapses (and the calendar changes without a write).
    pub valid_until: Option<Timestamp>,
}

fn read_head(txn: &ReadTransaction, id: u64) -> Result<Option<ExportHead>, StoreError> {
    let (Some(acc), Some(settings)) = (
        load(txn, AccommodationId::new(id))?,
        read_settings(txn, id)?,
    ) else {
        return Ok(None);
    };
    let changed = txn
        .open_table(CALENDAR_CHANGED)?
        .get(id)?
        .and_then(|v| Timestamp::from_millisecond(v.value()).ok())
        .unwrap_or(settings.rotated_at);
    Ok(Some(ExportHead {
        accommodation_name: acc.spec.name,
        settings,
        changed,
    }))
}

/// The only part of a stored booking, block or imported stay the export reads; serde skips
/// the rest without building it.
#[derive(serde::Deserialize)]
struct Stamps {
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    #[serde(default)]
    history: Vec<Stamp>,
}

#[derive(serde::Deserialize)]
struct Stamp {
    at: Timestamp,
}

impl Stamps {
    /// The record's last change: its last audit entry, else its update, else its creation.
    fn last_change(&self) -> Option<Timestamp> {
        self.history
            .last()
            .map(|h| h.at)
            .or(self.updated_at)
            .or(self.created_at)
    }
}

fn read_settings(txn: &ReadTransaction, id: u64) -> Result<Option<ExportSettings>, StoreError> {
    let table = txn.open_table(ICAL_EXPORTS)?;
    table.get(id)?.map(|v| decode(v.value())).transpose()
}

fn record<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    code: &str,
) -> Result<Option<T>, StoreError> {
    table.get(code)?.map(|v| decode(v.value())).transpose()
}

impl Store {
    /// Applies `change` to an accommodation's export settings, starting from `fresh` for an
    /// accommodation made before exports existed.
    pub async fn change_export_settings(
        &self,
        accommodation_id: u64,
        fresh: ExportSettings,
        change: impl FnOnce(&mut ExportSettings) + Send + 'static,
    ) -> Result<Result<ExportSettings, AccommodationError>, StoreError> {
        self.writer
            .write(move |txn| {
                if load_for_write(txn, AccommodationId::new(accommodation_id))?.is_none() {
                    return Ok(Err(AccommodationError::NotFound));
                }
                let mut table = txn.open_table(ICAL_EXPORTS)?;
                let current: Option<ExportSettings> = table
                    .get(accommodation_id)?
                    .map(|v| decode(v.value()))
                    .transpose()?;
                let mut settings = current.unwrap_or(fresh);
                let before = settings.include_imported;
                change(&mut settings);
                table.insert(accommodation_id, encode(&settings).as_slice())?;
                drop(table);
                if settings.include_imported != before {
                    super::occupancy::touch(txn, accommodation_id)?;
                }
                Ok(Ok(settings))
            })
            .await
    }

    /// The export of an accommodation: stays whose check-out is after `since`, live at `now`.
    /// `None` when the accommodation or its settings do not exist.
    pub fn calendar_export(
        &self,
        accommodation_id: u64,
        since: Date,
        now: Timestamp,
    ) -> Result<Option<CalendarExport>, StoreError> {
        self.read(|txn| {
            let Some(head) = read_head(txn, accommodation_id)? else {
                return Ok(None);
            };
            let mut last_modified = head.changed;
            let mut valid_until: Option<Timestamp> = None;
            let table = txn.open_table(OCCUPANCY)?;
            let reservations = txn.open_table(RESERVATIONS)?;
            let blocks = txn.open_table(BLOCKS)?;
            let imported = txn.open_table(IMPORTED)?;
            let mut items = Vec::new();
            occupancy::ending_after(&table, accommodation_id, since, |code, held| {
                if let Some(lapses) = held.hold_expires_at {
                    if lapses <= now {
                        last_modified = last_modified.max(lapses);
                        return Ok(());
                    }
                    valid_until = Some(valid_until.map_or(lapses, |v| v.min(lapses)));
                }
                let (table, kind) = match &code[..code.len().min(3)] {
                    "RES" => (&reservations, ExportedKind::Reserved),
                    "BLK" => (&blocks, ExportedKind::Blocked),
                    "IMP" if head.settings.include_imported => (&imported, ExportedKind::Blocked),
                    _ => return Ok(()),
                };
                let found = record::<Stamps>(table, code)?
                    .and_then(|s| s.last_change())
                    .map(|changed| (changed, kind));
                if let Some((changed_at, kind)) = found {
                    items.push(ExportItem {
                        code: code.to_owned(),
                        range: held.range,
                        changed_at,
                        kind,
                    });
                }
                Ok(())
            })?;
            items.sort_by(|a, b| (a.range.check_in(), &a.code).cmp(&(b.range.check_in(), &b.code)));
            Ok(Some(CalendarExport {
                head,
                items,
                last_modified,
                valid_until,
            }))
        })
    }

    /// The cheap part of an export: name, settings and version.
    pub fn export_head(&self, accommodation_id: u64) -> Result<Option<ExportHead>, StoreError> {
        self.read(|txn| read_head(txn, accommodation_id))
    }

    /// The export settings of an accommodation, if it has them.
    pub fn export_settings(
        &self,
        accommodation_id: u64,
    ) -> Result<Option<ExportSettings>, StoreError> {
        self.read(|txn| read_settings(txn, accommodation_id))
    }
}
