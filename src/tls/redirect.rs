//! Port 80: answers ACME HTTP-01 challenges and sends everything else to the same path over
//! HTTPS on the configured public address (never the request's Host header).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where HTTP-01 validations look (RFC 8555 §8.3).
pub const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// Pending HTTP-01 challenges: token → key authorization.
#[derive(Debug, Default)]
pub struct HttpChallenges(RwLock<HashMap<String, String>>);

impl HttpChallenges {
    pub fn insert(&self, token: &str, key_authorization: &str) {
        self.0
            .write()
            .expect("challenge lock")
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    pub fn clear(&self) {
        self.0.write().expect("challenge lock").clear();
    }

    fn get(&self, token: &str) -> Option<String> {
        self.0.read().expect("challenge lock").get(token).cloned()
    }
}

#[derive(Clone)]
struct Port80 {
    challenges: Arc<HttpChallenges>,
    /// `https://host[:port]` to redirect to.
    base: Arc<str>,
}

/// The port-80 router.
pub fn router(challenges: Arc<HttpChallenges>, https_base: &str) -> Router {
    Router::new()
        .route(&format!("{CHALLENGE_PREFIX}{{token}}"), get(challenge))
        .fallback(redirect)
        .with_state(Port80 {
            challenges,
            base: https_base.into(),
        })
}

async fn challenge(State(s): State<Port80>, Path(token): Path<String>) -> Response {
    match s.challenges.get(&token) {
        Some(key_authorization) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            key_authorization,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn redirect(State(s): State<Port80>, uri: Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("{}{path}", s.base);
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}
