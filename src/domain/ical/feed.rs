//! Tolerant parsing of real OTA feeds into all-day stays in the property's time zone.
//!
//! The document is unfolded at the byte level and split into events by us; each event is then
//! parsed on its own by the `icalendar` crate, so one broken event is skipped and counted
//! instead of failing the whole feed.

use std::collections::HashSet;

use icalendar::parser::{Component, Property, read_calendar_simple};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use super::EventKind;
use super::text::{normalize_newlines, unfold};
use crate::domain::dates::NightRange;

/// How to read one feed.
#[derive(Debug, Clone)]
pub struct FeedRules {
    /// The property's zone: timed events become dates here.
    pub tz: TimeZone,
    /// `true` (RFC 5545): DTEND is the check-out day. `false`: DTEND is the last night.
    pub checkout_is_dtend: bool,
    /// UIDs in this domain are our own export coming back (echo) and are ignored.
    pub own_uid_domain: String,
}

/// One stay of a feed, keyed by its UID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    pub uid: String,
    pub range: NightRange,
    pub kind: EventKind,
    /// `STATUS:CANCELLED`: the event releases its dates.
    pub cancelled: bool,
}

/// A complete parse of a feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFeed {
    pub events: Vec<FeedEvent>,
    /// Events skipped because they could not be read (no UID, bad dates, bad syntax).
    pub broken: u32,
    /// Events skipped on purpose: our own echo, same-day timed tasks, repeated UIDs.
    pub ignored: u32,
}

/// Why a response is not a usable snapshot at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("the response is not an iCalendar document")]
    NotCalendar,
    #[error("the calendar ends before END:VCALENDAR (truncated)")]
    Truncated,
}

impl FeedError {
    /// Stable label for metrics and the feed's `last_error`.
    pub fn code(self) -> &'static str {
        match self {
            FeedError::NotCalendar => "parse",
            FeedError::Truncated => "truncated",
        }
    }
}

/// Parses a feed body. Fails only when the document as a whole is unusable: no
/// `BEGIN:VCALENDAR` (not a calendar) or no `END:VCALENDAR` after the last content line
/// (truncated). Whatever surrounds the events (blank or whitespace-only lines, a proxy's HTML
/// comment, stray text, other components, a BOM, mixed line endings) is passed over; every
/// syntactically valid VEVENT is read.
pub fn parse(body: &[u8], rules: &FeedRules) -> Result<ParsedFeed, FeedError> {
    let unfolded = unfold(&normalize_newlines(body));
    let text = match std::str::from_utf8(&unfolded) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&unfolded),
    };
    let joined = content_lines(&text);
    let lines: Vec<&str> = joined.lines().collect();
    let start = lines
        .iter()
        .position(|l| component(l) == Some(Marker::Begin("VCALENDAR")))
        .ok_or(FeedError::NotCalendar)?;
    let end = lines
        .iter()
        .rposition(|l| component(l) == Some(Marker::End("VCALENDAR")))
        .filter(|&end| end > start)
        .ok_or(FeedError::Truncated)?;
    if lines[end + 1..].iter().any(|l| starts_property(l)) {
        return Err(FeedError::Truncated);
    }
    let mut parsed = ParsedFeed::default();
    let mut seen = HashSet::new();
    for block in event_blocks(&lines[start..=end], &mut parsed.broken) {
        match read_event(&block, rules) {
            Read::Event(event) if seen.insert(event.uid.clone()) => parsed.events.push(event),
            Read::Event(_) | Read::Ignored => parsed.ignored += 1,
            Read::Broken => parsed.broken += 1,
        }
    }
    Ok(parsed)
}

/// Below this many octets a line cannot have been folded, so a line after it that does not
/// start a property is not its lost continuation (folds happen at 75 octets, a few less when a
/// multi-byte character would be split).
const FOLDED_MIN_OCTETS: usize = 70;

/// The content lines, joined by `\n`: BOMs and trailing whitespace trimmed, blank lines
/// dropped. A line that cannot start a property is the lost continuation of a folded line
/// before it (a fold that lost its leading space) when that line is long enough to have been
/// folded; otherwise it is not iCalendar (stray text, a proxy's `<!-- … -->`) and is dropped.
fn content_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_len = 0;
    let mut last_is_marker = true;
    for raw in text.split('\n') {
        let line = raw.trim_start_matches('\u{feff}').trim_end();
        if line.trim_start().is_empty() {
            continue;
        }
        if starts_property(line) {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line);
            last_len = line.len();
            last_is_marker = component(line).is_some();
        } else if !last_is_marker && last_len >= FOLDED_MIN_OCTETS && !line.starts_with('<') {
            out.push_str(line);
            last_len += line.len();
        }
    }
    out
}

fn starts_property(line: &str) -> bool {
    let name_len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
        .count();
    name_len > 0 && matches!(line.as_bytes().get(name_len), Some(b':' | b';'))
}

fn has_prefix(line: &str, prefix: &str) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// A `BEGIN:` or `END:` line with its component's name: `VCALENDAR`, `VEVENT` or `OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker<'a> {
    Begin(&'a str),
    End(&'a str),
}

/// Reads `BEGIN:NAME` / `END:NAME`; whatever follows the name (junk a proxy glued on) is
/// ignored. Known names come back as the constants `VCALENDAR` and `VEVENT`.
fn component(line: &str) -> Option<Marker<'static>> {
    let (begin, rest) = if has_prefix(line, "BEGIN:") {
        (true, &line[6..])
    } else if has_prefix(line, "END:") {
        (false, &line[4..])
    } else {
        return None;
    };
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
        .count();
    let name = match &rest[..len] {
        n if n.eq_ignore_ascii_case("VCALENDAR") => "VCALENDAR",
        n if n.eq_ignore_ascii_case("VEVENT") => "VEVENT",
        "" => return None,
        _ => "OTHER",
    };
    Some(if begin {
        Marker::Begin(name)
    } else {
        Marker::End(name)
    })
}

/// The properties an event is read from; everything else (DESCRIPTION, ATTENDEE, …) is left
/// out before parsing.
const READ: [&str; 6] = ["UID", "DTSTART", "DTEND", "DURATION", "STATUS", "SUMMARY"];

fn is_read(line: &str) -> bool {
    READ.iter().any(|name| {
        has_prefix(line, name) && matches!(line.as_bytes().get(name.len()), Some(b':' | b';'))
    })
}

/// The lines of each VEVENT that matter: BEGIN, END and the [`READ`] properties of the event
/// itself (not of nested components; `END:VEVENT` closes the event even when a nested one was
/// left open). An event cut short by another `BEGIN:VEVENT` or by the end of the calendar is
/// counted in `broken`.
fn event_blocks<'a>(lines: &[&'a str], broken: &mut u32) -> Vec<Vec<&'a str>> {
    let mut blocks = Vec::new();
    let mut current: Option<(Vec<&'a str>, usize)> = None;
    for &line in lines {
        let marker = component(line);
        if marker == Some(Marker::Begin("VEVENT")) {
            if current.replace((vec!["BEGIN:VEVENT"], 0)).is_some() {
                *broken += 1;
            }
            continue;
        }
        let Some((block, depth)) = current.as_mut() else {
            continue;
        };
        match marker {
            Some(Marker::End("VEVENT")) => {
                block.push("END:VEVENT");
                blocks.extend(current.take().map(|(b, _)| b));
            }
            Some(Marker::End("VCALENDAR")) => {
                current = None;
                *broken += 1;
            }
            Some(Marker::Begin(_)) => *depth += 1,
            Some(Marker::End(_)) => *depth = depth.saturating_sub(1),
            None if *depth == 0 && is_read(line) => block.push(line),
            None => {}
        }
    }
    blocks
}

enum Read {
    Event(FeedEvent),
    Ignored,
    Broken,
}

fn read_event(lines: &[&str], rules: &FeedRules) -> Read {
    let text = lines.join("\n") + "\n";
    let Ok(components) = read_calendar_simple(&text) else {
        return Read::Broken;
    };
    let Some(event) = components.first() else {
        return Read::Broken;
    };
    let uid = match prop(event, "UID") {
        Some(p) if !p.val.as_str().trim().is_empty() => p.val.as_str().trim().to_owned(),
        _ => return Read::Broken,
    };
    if is_echo(&uid, &rules.own_uid_domain) {
        return Read::Ignored;
    }
    match stay_range(event, rules) {
        Stay::Range(range) => Read::Event(FeedEvent {
            cancelled: prop(event, "STATUS")
                .is_some_and(|p| p.val.as_str().trim().eq_ignore_ascii_case("CANCELLED")),
            kind: classify(prop(event, "SUMMARY").map_or("", |p| p.val.as_str())),
            uid,
            range,
        }),
        Stay::SameDayTask => Read::Ignored,
        Stay::Invalid => Read::Broken,
    }
}

fn prop<'a>(component: &'a Component<'_>, name: &str) -> Option<&'a Property<'a>> {
    component
        .properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn is_echo(uid: &str, own_domain: &str) -> bool {
    !own_domain.is_empty()
        && uid
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(own_domain))
}

/// Blocks rather than bookings: Airbnb "Airbnb (Not available)", Booking.com "CLOSED - Not
/// available", and the usual words for a closed date in English and Spanish.
pub fn classify(summary: &str) -> EventKind {
    let s = summary.to_lowercase();
    const BLOCK_WORDS: [&str; 8] = [
        "not available",
        "unavailable",
        "blocked",
        "closed",
        "no disponible",
        "bloqueado",
        "cerrado",
        "owner",
    ];
    if BLOCK_WORDS.iter().any(|w| s.contains(w)) {
        EventKind::Block
    } else {
        EventKind::Reservation
    }
}

enum Stay {
    Range(NightRange),
    SameDayTask,
    Invalid,
}

/// A DTSTART / DTEND value: an all-day date or a moment turned into a property-local time.
enum When {
    Date(Date),
    Time(DateTime),
}

impl When {
    fn date(&self) -> Date {
        match self {
            When::Date(d) => *d,
            When::Time(t) => t.date(),
        }
    }
}

fn stay_range(event: &Component<'_>, rules: &FeedRules) -> Stay {
    let Some(start) = prop(event, "DTSTART").and_then(|p| when(p, &rules.tz)) else {
        return Stay::Invalid;
    };
    let end = match (prop(event, "DTEND"), prop(event, "DURATION")) {
        (Some(p), _) => match when(p, &rules.tz) {
            Some(end) if !rules.checkout_is_dtend => {
                match end.date().checked_add(Span::new().days(1)) {
                    Ok(d) => When::Date(d),
                    Err(_) => return Stay::Invalid,
                }
            }
            Some(end) => end,
            None => return Stay::Invalid,
        },
        (None, Some(p)) => match add_duration(&start, p.val.as_str()) {
            Some(end) => end,
            None => return Stay::Invalid,
        },
        (None, None) => match &start {
            When::Date(d) => match d.tomorrow() {
                Ok(d) => When::Date(d),
                Err(_) => return Stay::Invalid,
            },
            When::Time(_) => return Stay::SameDayTask,
        },
    };
    let (from, to) = (start.date(), end.date());
    if !(2000..=2199).contains(&from.year()) || !(2000..=2199).contains(&to.year()) {
        return Stay::Invalid;
    }
    match (&start, to.cmp(&from)) {
        (_, std::cmp::Ordering::Greater) => {
            NightRange::new(from, to).map_or(Stay::Invalid, Stay::Range)
        }
        (When::Time(_), _) => Stay::SameDayTask,
        (When::Date(_), std::cmp::Ordering::Equal) => from
            .tomorrow()
            .ok()
            .and_then(|next| NightRange::new(from, next).ok())
            .map_or(Stay::Invalid, Stay::Range),
        (When::Date(_), std::cmp::Ordering::Less) => Stay::Invalid,
    }
}

/// Reads a date or date-time property. `Z` times and `TZID` times become property-local;
/// floating times (and unknown zones) are taken as property-local already.
fn when(p: &Property<'_>, tz: &TimeZone) -> Option<When> {
    let value = p.val.as_str().trim();
    let param = |key: &str| {
        p.params
            .iter()
            .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
            .and_then(|x| x.val.as_ref())
            .map(|v| v.as_str().trim_matches('"').to_owned())
    };
    let is_date = param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    if is_date || value.len() == 8 {
        return Date::strptime("%Y%m%d", value.get(..8)?)
            .ok()
            .map(When::Date);
    }
    if let Some(utc) = value.strip_suffix(['Z', 'z']) {
        let civil = DateTime::strptime("%Y%m%dT%H%M%S", utc).ok()?;
        let at: Timestamp = TimeZone::UTC.to_timestamp(civil).ok()?;
        return Some(When::Time(tz.to_datetime(at)));
    }
    let civil = DateTime::strptime("%Y%m%dT%H%M%S", value).ok()?;
    let zone = param("TZID").and_then(|name| {
        let name = name
            .rsplit("/mozilla.org/")
            .next()
            .unwrap_or(&name)
            .to_owned();
        jiff::tz::db().get(name.trim_start_matches('/')).ok()
    });
    Some(When::Time(match zone {
        Some(zone) => tz.to_datetime(zone.to_timestamp(civil).ok()?),
        None => civil,
    }))
}

fn add_duration(start: &When, duration: &str) -> Option<When> {
    let span: Span = duration.trim().parse().ok()?;
    if span.is_negative() {
        return None;
    }
    match start {
        When::Date(d) => {
            let end = d
                .to_datetime(jiff::civil::Time::midnight())
                .checked_add(span)
                .ok()?;
            Some(When::Date(end.date()))
        }
        When::Time(t) => t.checked_add(span).ok().map(When::Time),
    }
}

#[cfg(test)]
mod tests;
