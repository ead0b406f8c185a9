//! `Recorder`: a model wrapper that adds every exchange of the model it wraps to a
//! [`Cassette`], and otherwise changes nothing.

use futures::future::BoxFuture;

use super::{Cassette, Exchange};
use crate::model::{Model, ModelError, ModelRequest, ModelResponse, SharedModel};

/// Records the exchanges of one model entry into a shared [`Cassette`].
///
/// Every request is forwarded as it is; when the answer (or the error) comes back, the
/// exchange is added to the cassette and the answer returned unchanged. A request whose
/// answer never comes (its run was dropped) is not recorded. Made by [`Cassette::recorder`].
#[derive(Debug)]
pub struct Recorder {
    inner: SharedModel,
    /// The model entry's name, written in each exchange.
    model: String,
    cassette: Cassette,
}

impl Recorder {
    pub(super) fn new(cassette: Cassette, model: String, inner: SharedModel) -> Self {
        Recorder {
            inner,
            model,
            cassette,
        }
    }

    /// The cassette it records into.
    pub fn cassette(&self) -> &Cassette {
        &self.cassette
    }
}

impl Model for Recorder {
    fn takes_images(&self) -> bool {
        self.inner.takes_images()
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let outcome = self.inner.respond(request).await;
            let exchange = Exchange::new(
                &self.model,
                self.inner.takes_images(),
                &request,
                outcome.clone(),
            );
            self.cassette.push(exchange);
            outcome
        })
    }
}
