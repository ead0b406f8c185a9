//! `Timeout`: fails a model request that has no complete answer in time.
//!
//! It wraps any [`Model`]. When time is up the inner request is dropped, which aborts its HTTP
//! exchange and closes the connection. Under [`Retry`](super::Retry) each attempt has its own
//! timeout. The clock is the HTTP runtime's, so it works under any executor (on the shard of a
//! swarm in virtual time, the shard's paused clock: see `http::sleep`).

use std::time::Duration;

use futures::future::{BoxFuture, Either};

use super::{Model, ModelError, ModelRequest, ModelResponse, http};

/// Bounds each request to a model.
#[derive(Debug)]
pub struct Timeout<M> {
    inner: M,
    after: Duration,
    /// Names the model in the error (`POST <url>` or the model's name).
    label: String,
}

impl<M: Model> Timeout<M> {
    /// Wraps `inner`; `label` names it in timeout errors.
    pub fn new(inner: M, after: Duration, label: impl Into<String>) -> Self {
        Timeout {
            inner,
            after,
            label: label.into(),
        }
    }
}

impl<M: Model> Model for Timeout<M> {
    fn takes_images(&self) -> bool {
        self.inner.takes_images()
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let answer = self.inner.respond(request);
            let timer = std::pin::pin!(http::sleep(self.after));
            match futures::future::select(answer, timer).await {
                Either::Left((result, _)) => result,
                Either::Right(((), _)) => Err(ModelError::Timeout {
                    endpoint: self.label.clone(),
                    after: self.after,
                }),
            }
        })
    }
}
