//! Certificates from an ACME CA (RFC 8555) with instant-acme: the account and the certificate
//! live in the store; a task orders a certificate when there is none (or it names other
//! domains, or came from another directory) and renews it ahead of expiry, retrying failures
//! with jittered backoff while the stored certificate goes on being served.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use jiff::Timestamp;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};

use super::cert::Loaded;
use super::redirect::HttpChallenges;
use super::resolver::CertResolver;
use super::status::TlsStatus;
use crate::config::{AcmeSettings, Challenge};
use crate::store::Store;

mod http_client;

const ACCOUNT_KEY: &str = "acme_account";
const CERTIFICATE_KEY: &str = "certificate";
/// The problem type of a request signed by an account the CA does not know (RFC 8555 §6.7).
const ACCOUNT_GONE: &str = "urn:ietf:params:acme:error:accountDoesNotExist";
/// One whole order (account, challenges, validation, issuance) gets this long.
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The renewal task looks at the clock at least this often (it may have jumped).
const MAX_SLEEP: Duration = Duration::from_secs(3_600);

/// The ACME account of one directory.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// The certificate last issued, with its key.
#[derive(Serialize, Deserialize)]
struct StoredCertificate {
    directory: String,
    domains: Vec<String>,
    chain_pem: String,
    key_pem: String,
    issued_at: Timestamp,
}

/// Orders and renews the certificate.
pub struct Acme {
    settings: AcmeSettings,
    store: Store,
    resolver: Arc<CertResolver>,
    http_challenges: Arc<HttpChallenges>,
    status: Arc<TlsStatus>,
}

impl Acme {
    pub fn new(
        settings: AcmeSettings,
        store: Store,
        resolver: Arc<CertResolver>,
        http_challenges: Arc<HttpChallenges>,
        status: Arc<TlsStatus>,
    ) -> Acme {
        Acme {
            settings,
            store,
            resolver,
            http_challenges,
            status,
        }
    }

    /// Serves the stored certificate, if there is a usable one (even one that is due for
    /// renewal or for other domains: better than none until the new one arrives).
    pub fn serve_stored(&self) -> anyhow::Result<()> {
        let Some(stored) = self.stored()? else {
            return Ok(());
        };
        match Loaded::from_pem(stored.chain_pem.as_bytes(), stored.key_pem.as_bytes()) {
            Ok(loaded) if loaded.not_after > Timestamp::now() => self.install(&loaded),
            Ok(_) => tracing::info!("the stored certificate has expired; ordering a new one"),
            Err(e) => {
                tracing::warn!(error = %e, "the stored certificate is unusable; ordering a new one")
            }
        }
        Ok(())
    }

    fn stored(&self) -> anyhow::Result<Option<StoredCertificate>> {
        self.store
            .tls_record(CERTIFICATE_KEY)
            .context("reading the stored certificate")
    }

    fn install(&self, loaded: &Loaded) {
        self.resolver.set(loaded);
        self.status.served(loaded.not_after);
    }

    /// How long until the next order: zero without a certificate for these domains from this
    /// directory, else until its renewal time.
    fn due_in(&self) -> Duration {
        let current = self.stored().ok().flatten().and_then(|s| {
            let same = s.directory == self.settings.directory && s.domains == self.settings.domains;
            let loaded = Loaded::from_pem(s.chain_pem.as_bytes(), s.key_pem.as_bytes()).ok();
            loaded.filter(|_| same)
        });
        match current {
            Some(c) => {
                let wait = c
                    .renew_at(self.settings.renew_before)
                    .duration_since(Timestamp::now());
                Duration::try_from(wait).unwrap_or(Duration::ZERO)
            }
            None => Duration::ZERO,
        }
    }

    /// Runs until aborted: orders when due, retries failures with jittered backoff.
    pub async fn run(self) {
        let mut failures = 0u32;
        loop {
            let wait = self.due_in();
            if !wait.is_zero() {
                tracing::debug!(seconds = wait.as_secs(), "next certificate order");
                tokio::time::sleep(wait.min(MAX_SLEEP)).await;
                continue;
            }
            let result = match tokio::time::timeout(ORDER_TIMEOUT, self.order()).await {
                Ok(result) => result,
                Err(_) => Err(anyhow!("the order took longer than {ORDER_TIMEOUT:?}")),
            };
            self.http_challenges.clear();
            self.resolver.clear_challenges();
            match result {
                Ok(loaded) => {
                    failures = 0;
                    metrics::counter!("acme_orders_total", "outcome" => "ok").increment(1);
                    tracing::info!(domains = ?self.settings.domains, not_after = %loaded.not_after, "certificate issued");
                }
                Err(e) => {
                    failures += 1;
                    metrics::counter!("acme_orders_total", "outcome" => "error").increment(1);
                    let retry = crate::integrations::outbound::backoff(
                        failures,
                        self.settings.retry_base,
                        self.settings.retry_max,
                        rand::random(),
                    );
                    tracing::warn!(error = %format!("{e:#}"), failures, retry_in_s = retry.as_secs(), "certificate order failed");
                    self.status.failed(format!("{e:#}"));
                    tokio::time::sleep(retry).await;
                }
            }
        }
    }

    /// The stored account of this directory, or a new one (also when `fresh`: the CA forgot
    /// the stored one).
    async fn account(&self, fresh: bool) -> anyhow::Result<Account> {
        let builder = || -> anyhow::Result<_> {
            let http = http_client::UreqClient::new(self.settings.ca_file.as_deref())?;
            Ok(Account::builder_with_http(Box::new(http)))
        };
        let stored: Option<StoredAccount> = self.store.tls_record(ACCOUNT_KEY)?;
        if let Some(stored) = stored.filter(|s| !fresh && s.directory == self.settings.directory) {
            return Ok(builder()?.from_credentials(stored.credentials).await?);
        }
        let contact = self.settings.email.as_ref().map(|e| format!("mailto:{e}"));
        let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()?
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.settings.directory.clone(),
                None,
            )
            .await
            .context("creating the ACME account")?;
        let stored = StoredAccount {
            directory: self.settings.directory.clone(),
            credentials,
        };
        self.store.put_tls_record(ACCOUNT_KEY, &stored).await?;
        tracing::info!(directory = %self.settings.directory, "ACME account created");
        Ok(account)
    }

    /// One order: challenges answered, certificate issued, stored and served.
    async fn order(&self) -> anyhow::Result<Loaded> {
        let identifiers: Vec<Identifier> = self
            .settings
            .domains
            .iter()
            .map(|d| Identifier::Dns(d.clone()))
            .collect();
        let new_order = NewOrder::new(&identifiers);
        let mut order = match self.account(false).await?.new_order(&new_order).await {
            Err(instant_acme::Error::Api(p)) if p.r#type.as_deref() == Some(ACCOUNT_GONE) => {
                tracing::warn!("the CA no longer knows the stored ACME account; creating another");
                self.account(true).await?.new_order(&new_order).await
            }
            other => other,
        }
        .context("creating the order")?;
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.context("reading an authorization")?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => bail!("authorization for {:?} is {other:?}", authz.identifier()),
            }
            let kind = match self.settings.challenge {
                Challenge::Http01 => ChallengeType::Http01,
                Challenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
            };
            let mut challenge = authz
                .challenge(kind.clone())
                .ok_or_else(|| anyhow!("the CA offers no {kind:?} challenge"))?;
            let key_authorization = challenge.key_authorization();
            match self.settings.challenge {
                Challenge::Http01 => self
                    .http_challenges
                    .insert(&challenge.token, key_authorization.as_str()),
                Challenge::TlsAlpn01 => {
                    let domain = challenge.identifier().to_string();
                    let cert = alpn_certificate(&domain, key_authorization.digest().as_ref())?;
                    self.resolver.add_challenge(&domain, cert);
                }
            }
            challenge
                .set_ready()
                .await
                .context("answering a challenge")?;
        }
        let status = order
            .poll_ready(&RetryPolicy::new().timeout(Duration::from_secs(90)))
            .await
            .context("waiting for validation")?;
        if status != OrderStatus::Ready {
            let why = order
                .state()
                .error
                .as_ref()
                .map_or_else(String::new, |p| format!(": {p}"));
            bail!("validation failed (order {status:?}){why}");
        }
        let key_pem = order.finalize().await.context("finalizing the order")?;
        let chain_pem = order
            .poll_certificate(&RetryPolicy::new().timeout(Duration::from_secs(90)))
            .await
            .context("downloading the certificate")?;
        let loaded = Loaded::from_pem(chain_pem.as_bytes(), key_pem.as_bytes())
            .context("the CA's certificate")?;
        let stored = StoredCertificate {
            directory: self.settings.directory.clone(),
            domains: self.settings.domains.clone(),
            chain_pem,
            key_pem,
            issued_at: Timestamp::now(),
        };
        self.store
            .put_tls_record(CERTIFICATE_KEY, &stored)
            .await
            .context("storing the certificate")?;
        self.install(&loaded);
        Ok(loaded)
    }
}

/// The self-signed certificate a TLS-ALPN-01 validation expects (RFC 8737 §3).
fn alpn_certificate(domain: &str, digest: &[u8]) -> anyhow::Result<Arc<CertifiedKey>> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec![domain.to_owned()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )))
}
