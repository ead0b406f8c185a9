//! `ConcurrencyLimit`: caps the requests in flight to one model endpoint.
//!
//! One instance wraps one model, and a topology builds each model once, so every agent and
//! conversation that uses it shares the cap (give several models one semaphore with
//! [`ConcurrencyLimit::with_semaphore`] to cap an endpoint they share). A request waits for a
//! permit before it is sent and holds it until its answer is read; under
//! [`Retry`](super::Retry), the wait between attempts holds no permit.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use super::{Model, ModelError, ModelRequest, ModelResponse};

/// Caps a model's requests in flight.
#[derive(Debug)]
pub struct ConcurrencyLimit<M> {
    inner: M,
    semaphore: Arc<Semaphore>,
}

impl<M: Model> ConcurrencyLimit<M> {
    /// At most `max` requests of `inner` in flight (at least 1; `usize::MAX` and other values
    /// past what a semaphore holds mean as many as it holds).
    pub fn new(inner: M, max: usize) -> Self {
        let permits = max.clamp(1, Semaphore::MAX_PERMITS);
        Self::with_semaphore(inner, Arc::new(Semaphore::new(permits)))
    }

    /// Shares `semaphore` with other models (one cap for one endpoint).
    pub fn with_semaphore(inner: M, semaphore: Arc<Semaphore>) -> Self {
        ConcurrencyLimit { inner, semaphore }
    }
}

impl<M: Model> Model for ConcurrencyLimit<M> {
    fn takes_images(&self) -> bool {
        self.inner.takes_images()
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let _permit = self.semaphore.acquire().await.map_err(|_| {
                ModelError::Other("the model's request limit was closed".to_owned())
            })?;
            self.inner.respond(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScriptedModel;

    #[test]
    fn any_cap_is_accepted_without_a_panic() {
        for max in [0, 1, usize::MAX] {
            let _ = ConcurrencyLimit::new(ScriptedModel::new(), max);
        }
    }
}
