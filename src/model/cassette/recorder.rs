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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::item::Item;
    use crate::model::{ModelSettings, RequestContext};

    /// Answers "seen" and takes images, as a model entry with `images: true` does.
    #[derive(Debug)]
    struct Eyes;

    impl Model for Eyes {
        fn takes_images(&self) -> bool {
            true
        }

        fn respond<'a>(
            &'a self,
            _: ModelRequest<'a>,
        ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
            Box::pin(async {
                Ok(ModelResponse {
                    output: vec![Item::assistant("seen")],
                    ..ModelResponse::default()
                })
            })
        }
    }

    #[test]
    fn whether_the_model_takes_images_is_forwarded_recorded_and_replayed() {
        let cassette = Cassette::new();
        let recorder = cassette.recorder("eyes", Arc::new(Eyes));
        assert!(recorder.takes_images());
        let input = [Item::user("look")];
        let settings = ModelSettings::default();
        let request = ModelRequest {
            instructions: "Look.",
            input: &input,
            tools: &[],
            parallel_tool_calls: true,
            settings: &settings,
            context: RequestContext {
                agent: "a",
                agent_turn: 0,
                run_turn: 0,
                trace_id: "t",
                events: None,
            },
        };
        let answer = futures::executor::block_on(recorder.respond(request)).unwrap();
        assert_eq!(answer.output_text(), "seen");
        let exchanges = cassette.exchanges();
        assert_eq!(exchanges.len(), 1);
        assert!(exchanges[0].takes_images);
        assert_eq!(exchanges[0].model, "eyes");

        let replay = cassette.replay();
        assert!(replay.takes_images());
        assert!(replay.for_model("eyes").takes_images());
        assert!(!replay.for_model("other").takes_images());
        let again = futures::executor::block_on(replay.respond(request)).unwrap();
        assert_eq!(again, answer);
    }
}
