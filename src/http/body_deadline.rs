//! A request body must arrive whole within `server.body_read_timeout`, however slowly it
//! trickles: the body is wrapped so that reading it fails once the deadline passes, and the
//! request gets 408 `body_timeout` (the connection is then closed, its body unread).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body that missed its deadline yields.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within server.body_read_timeout")]
pub struct BodyTimedOut;

/// Whether `error` (or what caused it) is a missed body deadline.
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A body that fails with [`BodyTimedOut`] once its deadline passes. The timer is made only
/// when the body keeps the reader waiting (most bodies are already whole when read).
struct Deadline {
    inner: Body,
    at: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let at = self.at;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: gives every request body `limit` from now to arrive (an empty body needs
/// nothing).
pub async fn limit_body_time(limit: Duration, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let at = Instant::now() + limit;
    let req = req.map(|inner| {
        Body::new(Deadline {
            inner,
            at,
            timer: None,
        })
    });
    next.run(req).await
}
