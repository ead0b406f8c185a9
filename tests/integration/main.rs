//! One integration test binary (ripgrep style): each module covers one capability.
//!
//! - `support`: shared helpers (probe tools, swarm builders, tracing for failing tests).
//! - `parallel_tools`: the calls of one turn are in flight together; outputs keep call order.
//! - `turn_loop`: the loop itself: final text, transcripts, requests the model saw.
//! - `handoff`: both handoff styles and every handoff case of DESIGN point 4.
//! - `errors_as_outputs`: unknown tool, bad arguments, tool error, panic, timeout (point 6).
//! - `limits`: max_turns and the handoff-loop guard stop ping-pong topologies.
//! - `many_conversations`: one agent actor serving 1,000 conversations at once.
//! - `embed`: a `Swarm` embedded in a plain `#[tokio::main]` application; shutdown.
//! - `topology`: every file in `agents/` loads and runs; bad files give file:line errors.
//! - `cli`: the `baton` binary as a subprocess.

mod support;

mod cli;
mod embed;
mod errors_as_outputs;
mod handoff;
mod limits;
mod many_conversations;
mod parallel_tools;
mod topology;
mod turn_loop;
