//! Tool kinds: what a `tools:` entry of a topology can be. Each kind is one module that reads
//! its own fields (reporting problems at their file, line and column), checks what it needs of
//! the rest of the topology, and registers its tools on the swarm builder.
//!
//! A tool's kind is the one key of [`KINDS`] its mapping holds (`builtin: add`,
//! `agent: summarizer`, `http: {...}`, `command: {...}`). Adding a kind is one module and
//! one line in [`KINDS`]: the reader, the checks, the JSON Schema editors use and the
//! swarm builder all go through this table and the [`Declared`] and [`Start`] traits.

mod agent;
mod builtin;
mod bytes;
#[cfg(unix)]
mod command;
mod http;
#[cfg(feature = "mcp")]
mod mcp;
mod parameters;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::diagnostic::Problems;
use super::raw::RawAgent;
use super::read::{Count, Dur, Fields, FromNode, Located, Reader, Retries, did_you_mean};
use super::tree::Node;
use crate::swarm::{SwarmBuilder, WeakSwarm};
use crate::tool::{DynamicTool, ToolOptions, ToolSource};

/// One kind of tool.
pub(super) struct Kind {
    /// The key that marks a tool of this kind.
    pub(super) key: &'static str,
    /// Reads a tool of this kind from its mapping, including the [`RawToolOptions`] every
    /// kind takes, and ends with [`Fields::finish`].
    pub(super) read: fn(Fields<'_, '_, '_>) -> Option<Box<dyn Declared>>,
    /// The JSON Schema of a tool of this kind.
    pub(super) schema: fn(&mut SchemaGenerator) -> Schema,
}

/// Every kind a topology can declare.
pub(super) const KINDS: &[Kind] = &[
    builtin::KIND,
    agent::KIND,
    http::KIND,
    #[cfg(unix)]
    command::KIND,
    #[cfg(feature = "mcp")]
    mcp::KIND,
];

/// A tool as a topology declares it, read and located.
pub(crate) trait Declared: Debug + Send + Sync {
    /// Its function name and where it is written (`None`: a problem already reported).
    fn name(&self) -> Option<&Located<String>>;
    /// How its calls run.
    fn options(&self) -> &RawToolOptions;
    /// The agent it runs, for agent tools, as written.
    fn agent(&self) -> Option<&Located<String>> {
        None
    }
    /// Checks what needs the rest of the topology and makes what registers the tool
    /// (`None`: a problem was reported).
    fn resolve(&self, p: &mut Problems, agents: &Agents<'_>) -> Option<Arc<dyn Start>>;
}

/// A checked tool, ready to be registered on swarm builders (as often as the topology
/// starts a swarm).
pub(crate) trait Start: Debug + Send + Sync {
    /// The agent it runs, for agent tools.
    fn agent(&self) -> Option<&str> {
        None
    }
    /// Whether it is a source of tools (see [`source`](Self::source)).
    fn is_source(&self) -> bool {
        false
    }
    /// Whether its real body can run in a simulation (offline and in virtual time), so a
    /// simulation may leave it without a declared output: built-ins and agent tools.
    fn runs_in_simulation(&self) -> bool {
        false
    }
    /// The tool source it is, for kinds whose entry is a source of tools (`mcp`), named
    /// `name`, its tools running with `options`.
    fn source(&self, name: &str, options: ToolOptions) -> Option<Arc<dyn ToolSource>> {
        let _ = (name, options);
        None
    }
    /// Adds the tool, named `name`, to `builder`. `swarm` is filled with the swarm once it
    /// has started (tools that run agents of the same swarm keep it).
    fn register(
        &self,
        builder: SwarmBuilder,
        name: &str,
        options: ToolOptions,
        swarm: &Arc<OnceLock<WeakSwarm>>,
    ) -> SwarmBuilder;
}

/// A checked tool that is a [`DynamicTool`] (`http`, `command`): registered as it is.
pub(super) struct DynamicStart(pub(super) Arc<dyn DynamicTool>);

impl Debug for DynamicStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DynamicStart").field(&self.0.name()).finish()
    }
}

impl Start for DynamicStart {
    fn register(
        &self,
        builder: SwarmBuilder,
        _: &str,
        options: ToolOptions,
        _: &Arc<OnceLock<WeakSwarm>>,
    ) -> SwarmBuilder {
        builder.dynamic_tool(Arc::clone(&self.0), options)
    }
}

/// The [`DynamicStart`] of a tool built from its declaration, if it could be.
pub(super) fn dynamic_start<T: DynamicTool>(tool: Option<&Arc<T>>) -> Option<Arc<dyn Start>> {
    let tool: Arc<dyn DynamicTool> = Arc::clone(tool?) as _;
    Some(Arc::new(DynamicStart(tool)))
}

/// The topology's agents, as kinds that refer to them see them.
pub(crate) struct Agents<'a> {
    /// Each agent's name and definition, in file order.
    pub(crate) list: &'a [(&'a Located<String>, &'a RawAgent)],
    /// Each agent's position in `list`, by name.
    pub(crate) positions: &'a HashMap<&'a str, usize>,
}

impl<'a> Agents<'a> {
    /// The agent called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a RawAgent> {
        self.positions.get(name).map(|&i| self.list[i].1)
    }

    /// Every agent's name.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.list.iter().map(|(name, _)| name.value.as_str())
    }
}

/// How calls to a tool run: fields every kind takes.
#[derive(Debug, Default, JsonSchema)]
pub(crate) struct RawToolOptions {
    /// At most this many calls at once, across all runs (for `burn_ms`, its thread count).
    pub(crate) max_concurrency: Option<Located<Count>>,
    /// A call that takes longer gets a timeout output (default: `limits.tool_timeout`).
    pub(crate) timeout: Option<Dur>,
    /// Safe to call again with the same arguments: only idempotent tools are retried.
    pub(crate) idempotent: Option<bool>,
    /// Extra attempts after a failure or timeout (idempotent tools only; `http` tools also
    /// retry 429 and 5xx answers).
    pub(crate) retries: Option<Located<Retries>>,
}

impl RawToolOptions {
    /// Reads the options from a tool's mapping.
    pub(super) fn read(f: &mut Fields<'_, '_, '_>) -> Self {
        RawToolOptions {
            max_concurrency: f.get("max_concurrency"),
            timeout: f.get("timeout"),
            idempotent: f.get("idempotent"),
            retries: f.get("retries"),
        }
    }
}

/// A tool entry: one of the [`KINDS`].
#[derive(Debug)]
pub(crate) struct RawTool(pub(crate) Box<dyn Declared>);

impl JsonSchema for RawTool {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tool".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kinds: Vec<serde_json::Value> = KINDS
            .iter()
            .map(|kind| (kind.schema)(generator).to_value())
            .collect();
        schemars::json_schema!({
            "description": "A tool: one of the kinds below, marked by its key.",
            "anyOf": kinds,
        })
    }
}

impl FromNode for RawTool {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let f = Fields::new(r, node, "a tool")?;
        let present: Vec<&Kind> = KINDS.iter().filter(|k| f.has(k.key)).collect();
        match present.as_slice() {
            [kind] => (kind.read)(f).map(RawTool),
            [] => {
                let keys = KINDS.iter().map(|k| k.key);
                let list = keys
                    .clone()
                    .map(|k| format!("`{k}:`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // A misspelt kind gets its hint at the key; anything else at the tool.
                // A handful of short candidates: no need to hold this to the hints' budget.
                let mut work = u64::MAX;
                let misspelt = f.keys().find_map(|key| {
                    did_you_mean(key, keys.clone(), &mut work).map(|hint| (key.to_owned(), hint))
                });
                match misspelt {
                    Some((key, hint)) => {
                        let key_node = key_node(node, &key).unwrap_or(node);
                        f.reader.error(
                            key_node,
                            format!("unknown tool kind `{key}`: a tool needs one of {list}"),
                            Some(hint),
                        );
                    }
                    None => f.reader.error(
                        node,
                        format!("unknown tool kind: a tool needs one of {list}"),
                        None,
                    ),
                }
                None
            }
            [first, second, ..] => {
                f.reader.error(
                    node,
                    format!(
                        "a tool has one kind: `{}` or `{}`, not both",
                        first.key, second.key
                    ),
                    None,
                );
                None
            }
        }
    }
}

/// The key node `key` of the mapping `node`.
fn key_node<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    let super::tree::Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .map(|(k, _)| k)
        .find(|k| matches!(&k.value, super::tree::Value::String(name) if name == key))
}
