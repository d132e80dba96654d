//! instant-acme's HTTP client, over the ureq agent (rustls, ring) the other integrations use,
//! instead of its default hyper client: no second HTTP/TLS client stack in the binary.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use ureq::Agent;
use ureq::http::{Method, Request, Response};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Deadline of one request to the CA.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct UreqClient {
    agent: Agent,
}

impl UreqClient {
    /// A client trusting the public roots, or only the PEM roots in `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> anyhow::Result<UreqClient> {
        let mut tls = TlsConfig::builder();
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading {} (server.tls.acme_ca_file)", path.display()))?;
            let roots = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<Vec<Certificate<'static>>, _>>()
                .with_context(|| format!("{} (server.tls.acme_ca_file)", path.display()))?;
            tls = tls.root_certs(RootCerts::Specific(Arc::new(roots)));
        }
        let agent = Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls.build())
            .user_agent(concat!("alojamientos/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(UreqClient { agent })
    }
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Other(Box::new(e))
}

impl HttpClient for UreqClient {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let agent = self.agent.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.map_err(other)?.to_bytes();
            let (parts, bytes) = tokio::task::spawn_blocking(move || {
                // ureq refuses a body on GET and HEAD, where instant-acme sends an empty one.
                let response = if parts.method == Method::GET || parts.method == Method::HEAD {
                    agent.run(Request::from_parts(parts, ()))
                } else {
                    agent.run(Request::from_parts(parts, body.to_vec()))
                }?;
                let (parts, mut body) = response.into_parts();
                let bytes = body.read_to_vec()?;
                Ok::<_, ureq::Error>((parts, bytes))
            })
            .await
            .map_err(other)?
            .map_err(other)?;
            Ok(BytesResponse::from(Response::from_parts(
                parts,
                Full::new(Bytes::from(bytes)),
            )))
        })
    }
}
