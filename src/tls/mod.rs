//! HTTPS served by the binary itself (`[server.tls]`): the application over TLS with HSTS, a
//! certificate from an ACME CA (renewed in the background) or from files (reloaded on SIGHUP),
//! and port 80 answering ACME HTTP-01 challenges and redirecting everything else to HTTPS.
//! Under systemd the ports come from socket units (`FileDescriptorName=https` / `http`), so the
//! dynamic user needs no capability.

mod acme;
mod cert;
mod files;
mod listener;
mod redirect;
mod resolver;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use status::{TlsStatus, TlsView};

use crate::config::{CertSource, Challenge, Settings};
use crate::connections::{Admission, Connections, serve};
use crate::store::Store;
use crate::systemd::Sockets;
use acme::Acme;
use files::CertFiles;
use redirect::HttpChallenges;
use resolver::{ACME_TLS_ALPN, CertResolver};

/// What keeps the certificate current.
enum Keeper {
    Acme(Box<Acme>),
    Files(CertFiles),
}

/// HTTPS and port-80 listeners, bound, with the certificate loaded (if one is stored).
pub struct Https {
    https: TcpListener,
    http: Option<TcpListener>,
    config: Arc<rustls::ServerConfig>,
    challenges: Arc<HttpChallenges>,
    redirect_base: Option<String>,
    hsts: Option<HeaderValue>,
    keeper: Keeper,
    status: Arc<TlsStatus>,
}

/// A systemd socket, or a listener bound to the configured address.
async fn listener(
    passed: Option<std::net::TcpListener>,
    addr: SocketAddr,
    key: &str,
) -> anyhow::Result<TcpListener> {
    match passed {
        Some(socket) => Ok(TcpListener::from_std(socket)?),
        None => TcpListener::bind(addr).await.with_context(|| {
            format!(
                "cannot listen on {addr} ({key}); under systemd enable alojamientos-https.socket \
                 and alojamientos-http.socket, otherwise allow the port with `setcap \
                 cap_net_bind_service=+ep` on the binary or choose a port above 1023"
            )
        }),
    }
}

impl Https {
    /// Binds the HTTPS and port-80 listeners (systemd's sockets first) and serves the stored
    /// or file certificate; `None` when `[server.tls]` has no certificate source.
    pub async fn bind(
        settings: &Settings,
        store: &Store,
        sockets: &mut Sockets,
    ) -> anyhow::Result<Option<Https>> {
        let tls = &settings.tls;
        let Some(source) = &tls.source else {
            if sockets.https.is_some() || sockets.http.is_some() {
                bail!(
                    "systemd passes the https/http sockets but [server.tls] has neither \
                     acme_domains nor cert_file: set one, or disable alojamientos-https.socket \
                     and alojamientos-http.socket"
                );
            }
            return Ok(None);
        };
        let https = listener(sockets.https.take(), tls.listen, "server.tls.listen").await?;
        let http = match (sockets.http.take(), tls.http_listen) {
            (Some(socket), _) => Some(TcpListener::from_std(socket)?),
            (None, Some(addr)) => Some(listener(None, addr, "server.tls.http_listen").await?),
            (None, None) => None,
        };
        let redirect_base = settings.public_base_url.clone();
        if http.is_some() && redirect_base.is_none() {
            bail!(
                "config key `server.public_base_url`: needed to redirect port 80 to HTTPS when \
                 the certificate comes from files (or set server.tls.http_listen = \"\")"
            );
        }
        let resolver = Arc::new(CertResolver::default());
        let challenges = Arc::new(HttpChallenges::default());
        let mut alpn = vec![b"http/1.1".to_vec()];
        let (keeper, status) = match source {
            CertSource::Acme(a) => {
                if a.challenge == Challenge::Http01 && http.is_none() {
                    bail!("the http-01 challenge needs port 80 (server.tls.http_listen)");
                }
                if a.challenge == Challenge::TlsAlpn01 {
                    alpn.push(ACME_TLS_ALPN.to_vec());
                }
                let status = Arc::new(TlsStatus::new("acme", a.domains.clone()));
                let acme = Acme::new(
                    a.clone(),
                    store.clone(),
                    resolver.clone(),
                    challenges.clone(),
                    status.clone(),
                );
                acme.serve_stored()?;
                (Keeper::Acme(Box::new(acme)), status)
            }
            CertSource::Files { cert, key } => {
                let status = Arc::new(TlsStatus::new("files", vec![]));
                let files = CertFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    resolver: resolver.clone(),
                    status: status.clone(),
                };
                files.load()?;
                (Keeper::Files(files), status)
            }
        };
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
        config.alpn_protocols = alpn;
        let hsts = (!tls.hsts_max_age.is_zero()).then(|| {
            HeaderValue::from_str(&format!("max-age={}", tls.hsts_max_age.as_secs()))
                .expect("digits make a header value")
        });
        Ok(Some(Https {
            https,
            http,
            config: Arc::new(config),
            challenges,
            redirect_base,
            hsts,
            keeper,
            status,
        }))
    }

    pub fn status(&self) -> Arc<TlsStatus> {
        self.status.clone()
    }

    /// Serves `app` over HTTPS (with HSTS) and the port-80 router until `stop` turns true,
    /// keeping the certificate current meanwhile. The handle ends once both have drained.
    pub fn spawn(
        self,
        app: Router,
        connections: Arc<Connections>,
        stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let keeper = match self.keeper {
            Keeper::Acme(acme) => tokio::spawn(acme.run()),
            Keeper::Files(files) => tokio::spawn(files.reload_on_hangup()),
        };
        let app = match self.hsts {
            Some(value) => app.layer(axum::middleware::map_response(
                move |mut response: Response| {
                    let value = value.clone();
                    async move {
                        response
                            .headers_mut()
                            .insert(header::STRICT_TRANSPORT_SECURITY, value);
                        response
                    }
                },
            )),
            None => app,
        };
        let tls = listener::TlsListener::new(self.https, self.config, connections.clone());
        let port80 = self.http.map(|http| {
            let base = self
                .redirect_base
                .unwrap_or_default()
                .replacen("http://", "https://", 1);
            (http, redirect::router(self.challenges, &base))
        });
        tokio::spawn(async move {
            let https = async {
                match tls {
                    Ok(tls) => {
                        let done = Admission::Done(connections.settings());
                        serve(tls, app, done, stop.clone()).await
                    }
                    Err(e) => tracing::error!(error = %e, "https listener"),
                }
            };
            let http = async {
                if let Some((listener, router)) = port80 {
                    let here = Admission::Here(connections.clone());
                    serve(listener, router, here, stop.clone()).await;
                }
            };
            tokio::join!(https, http);
            // Awaited, so the renewal task has let go of the store when this handle ends.
            keeper.abort();
            let _ = keeper.await;
        })
    }
}

/// Keeps SIGHUP from ending the process when no certificate files are there to reload
/// (its default action), so `systemctl reload` is always safe.
pub fn ignore_hangup_unless_reloading(settings: &Settings) {
    if matches!(settings.tls.source, Some(CertSource::Files { .. })) {
        return;
    }
    if let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    {
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: no certificate files to reload");
            }
        });
    }
}
