//! Stand-ins: what a simulation puts in front of a tool's body.
//!
//! A simulation replaces models, tool bodies and the clock, and nothing else: the tool's
//! worker actor, its caps, timeout, retries and errors-as-outputs stay as they are. A
//! [`StandIn`] runs inside the worker, in the call's context, before the body: it may wait
//! (a declared latency, on the shard's virtual clock), fail the call, answer in the body's
//! place, or let the real body run (pure built-ins). [`Simulated`] is the worker body that
//! does this around any other body.

use futures::future::BoxFuture;
use serde_json::Value;

use super::args::Arguments;
use super::body::Body;
use super::output::Output;
use super::{ToolContext, ToolError, ToolOutput};

/// What stands in front of a tool's body in a simulation.
pub(crate) trait StandIn: Send + Sync + 'static {
    /// Runs before the body, in the call's context. `Ok(None)` lets the body run;
    /// `Ok(Some(output))` answers instead of it; `Err` fails the call. `args` are the call's
    /// arguments when the tool takes JSON (not for Rust tools, whose arguments are typed).
    fn before<'a>(
        &'a self,
        args: Option<&'a Value>,
        context: &'a ToolContext,
    ) -> BoxFuture<'a, Result<Option<ToolOutput>, ToolError>>;
}

/// A body with a [`StandIn`] in front of it.
pub(crate) struct Simulated<B> {
    pub(crate) body: B,
    pub(crate) stand_in: std::sync::Arc<dyn StandIn>,
}

/// What a [`Simulated`] call did: the body ran, or the stand-in answered.
pub(crate) enum Ran<D> {
    Body(D),
    StandIn(ToolOutput),
}

impl<B: Body> Body for Simulated<B> {
    type Args = (Option<Value>, B::Args);
    type Done = Result<Ran<B::Done>, ToolError>;

    fn parse(arguments: Arguments) -> Result<Self::Args, String> {
        let json = match &arguments {
            Arguments::Json(text) => serde_json::from_str(text).ok(),
            Arguments::Typed(_) => None,
        };
        Ok((json, B::parse(arguments)?))
    }

    async fn run(&self, (json, args): Self::Args) -> Self::Done {
        let context = ToolContext::current()
            .unwrap_or_else(|| ToolContext::detached("", std::time::Duration::MAX));
        match self.stand_in.before(json.as_ref(), &context).await? {
            Some(output) => Ok(Ran::StandIn(output)),
            None => Ok(Ran::Body(self.body.run(args).await)),
        }
    }

    fn finish(name: &str, done: Self::Done) -> Result<Output, ToolError> {
        match done? {
            Ran::Body(done) => B::finish(name, done),
            Ran::StandIn(output) => Ok(Output::from(output)),
        }
    }
}
