//! Every application, domain and store error mapped to its status and stable code (the
//! request rejections are in the parent module): with it, the one place these contracts are
//! written.

use axum::http::StatusCode;

use super::ApiError;
use crate::app::booking::{BlockRefused, QuoteError};
use crate::app::ical::SyncError;
use crate::app::logins::LoginError;
use crate::app::payments::PaymentLinkError;
use crate::app::site::PhotoError;
use crate::app::site::images::ImageError;
use crate::domain::accommodation::InvalidAccommodation;
use crate::domain::booking::{ChangeError, ReserveError};
use crate::domain::contact::InvalidContact;
use crate::domain::content::InvalidContent;
use crate::domain::hold_limits::HoldRefusal;
use crate::domain::reservation::LinkError;
use crate::domain::stay::StayError;
use crate::store::backup::BackupError;
use crate::store::{AccommodationError, BlockError, ContentError, FeedError, StoreError};

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if crate::store::means_no_space(&e) {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                "the server's disk is full; nothing was changed, retry later",
            );
        }
        match e {
            StoreError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy, retry shortly",
            ),
            e if e.is_unavailable() => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store is not taking writes (shutting down or failed)",
            ),
            StoreError::LockTimeout | StoreError::BatchAborted => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "lock_timeout",
                "could not get the store in time, retry shortly",
            ),
            // Not the client's fault and not cured by retrying: a 500 with its own stable code.
            // The record was noted (counted, logged once, listed for the host).
            StoreError::Unreadable(record) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "record_unreadable",
                format!(
                    "a stored {} record this needs cannot be read; the rest of the store works \
                     and the host finds it in /api/v1/admin/store/decode-errors",
                    record.table
                ),
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::internal()
            }
        }
    }
}

impl From<StayError> for ApiError {
    fn from(e: StayError) -> Self {
        let code = match e {
            StayError::InvalidDates | StayError::TooLong { .. } => "invalid_dates",
            StayError::PastDates => "past_dates",
            StayError::InvalidGuests => "invalid_guests",
            StayError::CapacityExceeded { .. } => "capacity_exceeded",
            StayError::MinStay { .. } => "min_stay",
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    }
}

impl From<QuoteError> for ApiError {
    fn from(e: QuoteError) -> Self {
        match e {
            QuoteError::AccommodationNotFound => Self::no_accommodation(e.to_string()),
            QuoteError::Stay(s) => s.into(),
            QuoteError::Store(s) => s.into(),
        }
    }
}

impl From<ReserveError> for ApiError {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::AccommodationNotFound => Self::no_accommodation(e.to_string()),
            ReserveError::Stay(s) => s.into(),
            ReserveError::DateOverlap => Self::conflict("date_overlap", e.to_string()),
            ReserveError::Limited(refused) => refused.into(),
        }
    }
}

/// A guest's hold over a limit: 429 `too_many_holds` (with `Retry-After` until the client's
/// first hold lapses) for too many live holds, 409 `hold_too_long` or `too_many_held_nights`
/// for a stay the limits never allow or the calendar cannot take now.
impl From<HoldRefusal> for ApiError {
    fn from(e: HoldRefusal) -> Self {
        let (status, code) = match e {
            HoldRefusal::PerPhone { .. } | HoldRefusal::PerAddress { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_holds")
            }
            HoldRefusal::TooLong { .. } => (StatusCode::CONFLICT, "hold_too_long"),
            HoldRefusal::AccommodationShare { .. } => {
                (StatusCode::CONFLICT, "too_many_held_nights")
            }
        };
        let mut error = Self::new(status, code, e.to_string());
        if let HoldRefusal::PerPhone {
            free_at: Some(at), ..
        }
        | HoldRefusal::PerAddress {
            free_at: Some(at), ..
        } = e
        {
            let wait = at.duration_since(jiff::Timestamp::now()).as_secs().max(1);
            error.retry_after = Some(wait as u64);
        }
        error
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound => Self::no_reservation(e.to_string()),
            ChangeError::InvalidState { .. } => Self::conflict("invalid_state", e.to_string()),
            ChangeError::DateOverlap => Self::conflict("date_overlap", e.to_string()),
            ChangeError::RequiresHost => {
                Self::conflict("cancellation_requires_host", e.to_string())
            }
        }
    }
}

impl From<BlockRefused> for ApiError {
    fn from(e: BlockRefused) -> Self {
        match e {
            BlockRefused::Dates => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_dates",
                e.to_string(),
            ),
            BlockRefused::PastDates => StayError::PastDates.into(),
            BlockRefused::Refused(b) => match b {
                BlockError::AccommodationNotFound => Self::no_accommodation(b.to_string()),
                BlockError::DateOverlap => Self::conflict("date_overlap", b.to_string()),
                BlockError::NotFound => Self::not_found("block_not_found", b.to_string()),
            },
            BlockRefused::Store(s) => s.into(),
        }
    }
}

impl From<AccommodationError> for ApiError {
    fn from(e: AccommodationError) -> Self {
        match e {
            AccommodationError::NotFound => Self::no_accommodation(e.to_string()),
            AccommodationError::Invalid(invalid) => invalid.into(),
        }
    }
}

impl From<InvalidAccommodation> for ApiError {
    fn from(e: InvalidAccommodation) -> Self {
        Self::validation(e.to_string())
    }
}

impl From<InvalidContent> for ApiError {
    fn from(e: InvalidContent) -> Self {
        Self::validation(e.to_string())
    }
}

impl From<ContentError> for ApiError {
    fn from(e: ContentError) -> Self {
        match e {
            ContentError::NotFound => Self::no_accommodation(e.to_string()),
            ContentError::SlugTaken => Self::conflict("slug_taken", e.to_string()),
            ContentError::Refused(reason) => Self::validation(reason),
        }
    }
}

impl From<PhotoError> for ApiError {
    fn from(e: PhotoError) -> Self {
        let detail = e.to_string();
        let unprocessable = |code| Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, &detail);
        match e {
            PhotoError::Store(s) => s.into(),
            PhotoError::NotFound => Self::no_accommodation(detail),
            PhotoError::NoSuchPhoto => Self::not_found("photo_not_found", detail),
            PhotoError::TooMany => Self::conflict("too_many_photos", detail),
            PhotoError::Image(ImageError::Unsupported) => unprocessable("unsupported_image"),
            PhotoError::Image(ImageError::TooManyPixels { .. }) => unprocessable("image_too_large"),
            PhotoError::Image(ImageError::Undecodable(_)) => unprocessable("invalid_image"),
            PhotoError::Invalid(_) => Self::validation(detail),
            PhotoError::Busy => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", detail),
        }
    }
}

impl From<InvalidContact> for ApiError {
    fn from(e: InvalidContact) -> Self {
        Self::validation(e.to_string())
    }
}

impl From<FeedError> for ApiError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::AccommodationNotFound => Self::no_accommodation(e.to_string()),
            FeedError::NotFound => Self::not_found("feed_not_found", e.to_string()),
            FeedError::TooMany { .. } => Self::conflict("too_many_feeds", e.to_string()),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotFound => FeedError::NotFound.into(),
            SyncError::InProgress => Self::conflict(
                "sync_in_progress",
                "this feed is being synced right now; try again in a moment",
            ),
            SyncError::Store(s) => s.into(),
        }
    }
}

impl From<PaymentLinkError> for ApiError {
    fn from(e: PaymentLinkError) -> Self {
        match e {
            PaymentLinkError::NotConfigured => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payments_not_configured",
                e.to_string(),
            ),
            PaymentLinkError::Link(LinkError::NotFound) => Self::no_reservation(e.to_string()),
            PaymentLinkError::Link(LinkError::NotAHold(_)) => {
                Self::conflict("invalid_state", e.to_string())
            }
            PaymentLinkError::Provider(p) => Self::new(
                StatusCode::BAD_GATEWAY,
                "payment_provider_unavailable",
                p.to_string(),
            ),
            PaymentLinkError::Store(s) => s.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                e.to_string(),
            ),
            LoginError::Busy => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "login_busy", e.to_string())
            }
            LoginError::Weak(w) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                w.to_string(),
            ),
            LoginError::Store(s) => s.into(),
        }
    }
}

/// A snapshot that failed: 503 `storage_full` when the disk has no room for it (nothing was
/// written and the kept snapshots stand), else 500 `backup_failed`.
impl From<BackupError> for ApiError {
    fn from(e: BackupError) -> Self {
        tracing::error!(error = %e, "backup failed");
        let no_space = match &e {
            BackupError::NoSpace { .. } => true,
            BackupError::Store(store) => crate::store::means_no_space(store),
            BackupError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        };
        if no_space {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                e.to_string(),
            );
        }
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "backup_failed",
            e.to_string(),
        )
    }
}
