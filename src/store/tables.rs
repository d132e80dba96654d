//! Table definitions and key layouts. Values are JSON documents (see [`encode`] and
//! [`decode_at`]), so adding a field with a serde default needs no migration.

use redb::{TableDefinition, TableHandle};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// `schema_version`, `next_accommodation_id`.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Accommodation id → `Accommodation`.
pub const ACCOMMODATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("accommodations");
/// Reservation code → `Reservation`.
pub const RESERVATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("reservations");
/// Owner block code → `OwnerBlock`.
pub const BLOCKS: TableDefinition<&str, &[u8]> = TableDefinition::new("blocks");
/// Everything that holds dates: (accommodation id, length class, check-out `yyyymmdd`, code) →
/// (check-in `yyyymmdd`, hold expiry in ms since the epoch or [`NO_EXPIRY`]); see
/// `store/occupancy.rs`. Schema 1 had `occupancy`, keyed by check-in.
pub const OCCUPANCY: TableDefinition<(u64, u8, i32, &str), (i32, i64)> =
    TableDefinition::new("occupancy_by_check_out");
/// Live holds by expiry: (expires_at ms, code) → ().
pub const HOLD_EXPIRY: TableDefinition<(i64, &str), ()> = TableDefinition::new("hold_expiry");
/// Tables of the hold-limit index in stores written between 2026-12-06 builds (the index is
/// now in memory, `store/hold_limits.rs`): dropped when such a store opens, accepted (and not
/// copied) in a snapshot.
pub const LEGACY_HOLD_CLIENTS: TableDefinition<(&str, i64, &str), ()> =
    TableDefinition::new("hold_clients");
pub const LEGACY_GUEST_HOLDS: TableDefinition<(u64, i32, &str), (i32, i64)> =
    TableDefinition::new("guest_holds");
/// Secret name → key bytes made at first start (e.g. the guest token key), so a backup
/// restored elsewhere keeps recomputing the same values.
pub const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets");
/// The [`SECRETS`] entry of the key guests' access tokens are derived with.
pub const GUEST_TOKEN_KEY: &str = "guest_tokens";
/// `scope:key` → `IdempotencyRecord`.
pub const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency");
/// Lower-cased email → `AdminUser`.
pub const ADMINS: TableDefinition<&str, &[u8]> = TableDefinition::new("admins");
/// SHA-256 (hex) of a session token → `AdminSession`.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// Provider payment id → `PaymentRecord`.
pub const PAYMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("payments");
/// (reservation code, provider payment id) → (): a reservation's payments.
pub const RESERVATION_PAYMENTS: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("reservation_payments");
/// Provider payment id → `InboxEntry`: webhook notifications recorded but not yet processed.
pub const WEBHOOK_INBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("webhook_inbox");
/// Event sequence number → `DomainEvent`: notifications for guests and the host to deliver.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// WhatsApp message id → when it was first received (ms): Meta's retries are dropped.
pub const WA_SEEN: TableDefinition<&str, i64> = TableDefinition::new("whatsapp_seen");
/// Sequence number → `InboundMessage`: guest messages recorded but not yet answered.
pub const WA_INBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("whatsapp_inbox");
/// Message id → `OutboundMessage`: messages to send, sent and failed.
pub const WA_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("whatsapp_outbox");
/// Graph API message id (`wamid…`) → outbound message id, for delivery statuses.
pub const WA_WAMID: TableDefinition<&str, u64> = TableDefinition::new("whatsapp_wamid");
/// Message id → `EmailMessage`: emails to send, sent and failed.
pub const EMAIL_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("email_outbox");
/// Guest phone (international digits) → conversation state.
pub const CONVERSATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("conversations");
/// (Guest phone, sequence) → `ThreadEntry`: the last messages of each chat, both ways.
pub const WA_THREAD: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("whatsapp_thread");

/// Import feed id → `Feed`.
pub const FEEDS: TableDefinition<u64, &[u8]> = TableDefinition::new("ical_feeds");
/// Imported stay code → `ImportedStay`.
pub const IMPORTED: TableDefinition<&str, &[u8]> = TableDefinition::new("ical_imported");
/// (feed id, event UID) → imported stay code.
pub const FEED_UIDS: TableDefinition<(u64, &str), &str> = TableDefinition::new("ical_feed_uids");
/// Accommodation id → `ExportSettings`.
pub const ICAL_EXPORTS: TableDefinition<u64, &[u8]> = TableDefinition::new("ical_exports");
/// Accommodation id → last change of anything holding its dates (ms since the epoch).
pub const CALENDAR_CHANGED: TableDefinition<u64, i64> = TableDefinition::new("calendar_changed");

/// `"property"` → `PropertyContent`: the property's content as the host saved it.
pub const SITE_CONTENT: TableDefinition<&str, &[u8]> = TableDefinition::new("site_content");
/// Accommodation id → `AccommodationContent`: its page (slug, amenities, rules, photos).
pub const ACCOMMODATION_CONTENT: TableDefinition<u64, &[u8]> =
    TableDefinition::new("accommodation_content");
/// Media key (`<sha256 prefix>.jpg|webp`) → the encoded image: photos live in the store, so
/// every snapshot and backup holds them.
pub const MEDIA: TableDefinition<&str, &[u8]> = TableDefinition::new("media");
/// `acme_account` / `certificate` → the ACME account credentials and the certificate with its
/// key (`tls::stored`), so snapshots carry them.
pub const TLS: TableDefinition<&str, &[u8]> = TableDefinition::new("tls");

/// Occupancy entries that hold until changed (bookings, blocks) carry this expiry.
pub const NO_EXPIRY: i64 = i64::MAX;

/// Every table whose values are JSON records (what [`decode_at`] reads).
pub const JSON_TABLES: [&dyn TableHandle; 20] = [
    &ACCOMMODATIONS,
    &RESERVATIONS,
    &BLOCKS,
    &IDEMPOTENCY,
    &ADMINS,
    &SESSIONS,
    &PAYMENTS,
    &WEBHOOK_INBOX,
    &OUTBOX,
    &WA_INBOX,
    &WA_OUTBOX,
    &EMAIL_OUTBOX,
    &CONVERSATIONS,
    &WA_THREAD,
    &FEEDS,
    &IMPORTED,
    &ICAL_EXPORTS,
    &TLS,
    &SITE_CONTENT,
    &ACCOMMODATION_CONTENT,
];

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records serialize to JSON")
}

/// Decodes a record without naming it (for `check`, which reports a count).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}
