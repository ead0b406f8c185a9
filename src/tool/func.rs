//! Tools from closures: an async or blocking function of an argument struct, registered in one
//! line with [`SwarmBuilder::tool_fn`](crate::swarm::SwarmBuilder::tool_fn) or
//! [`SwarmBuilder::blocking_fn`](crate::swarm::SwarmBuilder::blocking_fn).
//!
//! [`FnTool`] and [`BlockingFnTool`] are the [`Tool`] and [`BlockingTool`] those build, so a
//! closure tool runs exactly like a hand-written one: the same worker actors and thread pools,
//! the same schema checks, the same context ([`ToolContext::current`](super::ToolContext::current)).

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{BlockingTool, Tool};

/// An async [`Tool`] made of a name, a description and a function of its arguments.
pub struct FnTool<A, F> {
    name: Arc<str>,
    description: Arc<str>,
    function: Arc<F>,
    args: PhantomData<fn(A)>,
}

impl<A, F> Clone for FnTool<A, F> {
    fn clone(&self) -> Self {
        FnTool {
            name: Arc::clone(&self.name),
            description: Arc::clone(&self.description),
            function: Arc::clone(&self.function),
            args: PhantomData,
        }
    }
}

impl<A, F> std::fmt::Debug for FnTool<A, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnTool").field("name", &self.name).finish()
    }
}

impl<A, F> std::fmt::Debug for BlockingFnTool<A, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingFnTool")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl<A, F> FnTool<A, F> {
    /// A tool named `name` that runs `function`.
    pub fn new(name: &str, description: &str, function: F) -> Self {
        FnTool {
            name: Arc::from(name),
            description: Arc::from(description),
            function: Arc::new(function),
            args: PhantomData,
        }
    }
}

impl<A, F, Fut, O, E> Tool for FnTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send,
    O: Serialize + 'static,
    E: Display,
{
    type Args = A;
    type Output = O;
    type Error = E;

    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn call(&self, args: A) -> impl Future<Output = Result<O, E>> + Send {
        (self.function)(args)
    }
}

/// A [`BlockingTool`] made of a name, a description and a blocking function of its arguments.
pub struct BlockingFnTool<A, F> {
    inner: FnTool<A, F>,
}

impl<A, F> Clone for BlockingFnTool<A, F> {
    fn clone(&self) -> Self {
        BlockingFnTool {
            inner: self.inner.clone(),
        }
    }
}

impl<A, F> BlockingFnTool<A, F> {
    /// A tool named `name` that runs `function` on a pool thread.
    pub fn new(name: &str, description: &str, function: F) -> Self {
        BlockingFnTool {
            inner: FnTool::new(name, description, function),
        }
    }
}

impl<A, F, O, E> BlockingTool for BlockingFnTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A) -> Result<O, E> + Send + Sync + 'static,
    O: Serialize + 'static,
    E: Display,
{
    type Args = A;
    type Output = O;
    type Error = E;

    fn name(&self) -> &str {
        &self.inner.name
    }

    fn description(&self) -> &str {
        &self.inner.description
    }

    fn call(&mut self, args: A) -> Result<O, E> {
        (self.inner.function)(args)
    }
}
