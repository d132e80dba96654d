//! Admin logins and password changes: every argon2 run (19 MiB, ~30 ms) takes one of a few
//! permits (`admin.login_concurrency`), so a crowd of logins costs a bounded amount of memory
//! and CPU; a login that cannot get a permit within `admin.login_wait`, or finds too many
//! others already waiting, is refused as busy.
//! Unknown emails run the same argon2 work against a dummy hash, so they take the same time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::password::{self, WeakPassword};
use crate::secret::{hash_password, verify_password};
use crate::store::{AdminUser, Store, StoreError};

/// Password checks for the admin accounts; cheap to clone.
#[derive(Clone)]
pub struct Logins {
    store: Store,
    permits: Arc<Semaphore>,
    /// Logins allowed to wait for a permit at once; more are refused as busy at once.
    queue: Arc<Semaphore>,
    wait: Duration,
}

/// Waiting logins allowed per permit.
const QUEUE_PER_PERMIT: usize = 8;

/// Why a login or a password change did not go through.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many logins at once; retry in a moment")]
    Busy,
    #[error(transparent)]
    Weak(#[from] WeakPassword),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Logins {
    pub fn new(store: Store, concurrency: usize, wait: Duration) -> Logins {
        Logins {
            store,
            permits: Arc::new(Semaphore::new(concurrency)),
            queue: Arc::new(Semaphore::new(concurrency * QUEUE_PER_PERMIT)),
            wait,
        }
    }

    /// A permit for one argon2 run, or [`LoginError::Busy`] after `admin.login_wait`.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, LoginError> {
        let busy = || {
            metrics::counter!("admin_logins_total", "result" => "busy").increment(1);
            LoginError::Busy
        };
        let Ok(_in_queue) = self.queue.try_acquire() else {
            return Err(busy());
        };
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// Runs `work` on a blocking thread while holding a permit.
    async fn argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LoginError> {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| LoginError::Busy)
    }

    /// The admin's lower-cased email when `password` is theirs.
    pub async fn verify(&self, email: &str, password: String) -> Result<String, LoginError> {
        let email = email.trim().to_lowercase();
        let hash = self.store.admin(&email)?.map(|u| u.password_hash);
        let ok = self
            .argon2(move || verify_password(&password, hash.as_deref()))
            .await?;
        let result = if ok { "ok" } else { "invalid" };
        metrics::counter!("admin_logins_total", "result" => result).increment(1);
        if ok {
            Ok(email)
        } else {
            Err(LoginError::InvalidCredentials)
        }
    }

    /// Replaces the logged-in admin's password after checking the current one and the policy.
    pub async fn change_password(
        &self,
        email: &str,
        current: String,
        new: String,
    ) -> Result<(), LoginError> {
        password::check(&new, email)?;
        let email = self.verify(email, current).await?;
        let hash = self.argon2(move || hash_password(&new)).await?;
        self.store
            .put_admin(AdminUser {
                email: email.clone(),
                password_hash: hash,
                created_at: jiff::Timestamp::now(),
            })
            .await?;
        tracing::info!("an admin changed their password");
        Ok(())
    }
}
