//! Tools from Model Context Protocol servers, through the official Rust SDK (`rmcp`).
//!
//! An [`McpServer`] says how to reach a server (a child process over stdio, or a URL over
//! streamable HTTP) and which of its tools to take; an [`McpSource`] is it as a
//! [`ToolSource`](super::ToolSource). When the swarm starts, the source opens the server's
//! session, lists its tools and registers each as a [`DynamicTool`](super::DynamicTool), so
//! every call goes through a worker actor with the tool's cap, timeout and retries, like any
//! other tool. The session itself is one supervised worker per server (`session`): a turn's
//! concurrent calls are multiplexed over it, a call that times out is cancelled on the server
//! too, and a server that exits is restarted with backoff. Results become text the model can
//! read (`result`).
//!
//! In a topology, the `mcp:` tool kind builds the same (`docs/mcp.md`).

mod connect;
mod names;
mod result;
mod server;
mod session;
mod source;
mod tool;

pub use connect::INHERITED_ENV;
pub use server::{DEFAULT_STARTUP_TIMEOUT, Filter, McpServer, Transport};
pub use source::McpSource;
