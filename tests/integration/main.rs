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
//! - `http_support`: fixtures, a mock model server per test, swarms using the HTTP clients.
//! - `responses_http`, `chat_http`: full runs over each API, plain and streamed.
//! - `resilience`: retries, Retry-After, timeouts, dropped connections, malformed bodies,
//!   400/401, the in-flight cap under 200 conversations.
//! - `mock_server`: the mock's API checks and turn inference, as another application sees it.
//! - `cli_http`: `baton run` against a live (mock) server from the environment alone;
//!   `baton mock-model` as a subprocess.
//! - `call_ids`: calls with missing, empty or repeated ids, continued conversations, the
//!   per-turn call cap, a panicking model, random model outputs (the history invariant).
//! - `model_errors`: short API errors with attempts and time, the 404 hint, bad base URLs,
//!   `baton run --model/--provider/--base-url`, a cut stream retried and printed once.
//! - `real_server`: every shipped topology against llama-cpp-python's server and a small real
//!   model (installed by `.ci/model-server`); requests accepted, limits enforced.
//! - `quirks`: real servers' quirks played by the mock (null content refused, empty streams,
//!   empty answers, `extra` collisions) and what Baton does about each.
//! - `secrets`: the API key never shows in logs, traces or errors.
//! - `url_secrets`: credentials in a base URL and URL-encoded echoes of the key never show.
//! - `bad_input`: links out of a folder, named pipes, unreadable paths, unbounded scripted
//!   texts, long inputs on stdin, empty keys, `${VAR}` naming a key: clear errors at once.
//! - `mock_bounds`: the mock closes stalled and idle connections and caps its records by bytes.
//! - `embed_live`: `Topology::start_live` chooses models as `baton run` does (a child process).
//! - `cli_output`: `baton run -q` prints only the answer; no colour codes on a pipe; no tokens offline.
//! - `simulation`: the simulation harness from Rust: branch weights, byte-identical reports, queueing, faults, expectations, personas.
//! - `shard_blocking`: an async tool that blocks stalls its shard; a `BlockingTool` does not.
//! - `docs`: README.md and docs/*.md name files that exist, and their commands and snippets work.
//! - `features`: without default features the library has no CLI or mock-server dependencies.
//! - `bounds`: a topology's scripted model keeps no requests; a slow stream reader gets a
//!   bounded queue and a lag report.
//! - `tool_seam`: dynamic (runtime-schema) tools behave as typed ones; every call's context;
//!   closure tools; tool sources; the swarm-wide cap on tool calls; restart counts in events.
//! - `http_tools`: HTTP tools against a real server: encoding, secrets redacted, timeouts,
//!   the body cap, retries and `Retry-After` for idempotent tools only, redirects, a swarm run.
//! - `tool_workers`: calls nobody waits for never start; panicking tool factories are retried;
//!   `Duration::MAX` timeouts.
//! - `mcp_servers`: real MCP servers (npm's reference servers, mcp-server-time, a probe on the
//!   Python SDK): listing, calls in flight at once, cancellation on the server, restarts,
//!   refusals as outputs, no orphans, streamable HTTP.
//! - `command_tools`: real programs from argv templates: no injection, the process group killed
//!   at the timeout, output caps in bounded memory, only allowed variables; through a swarm.
//! - `virtual_time`: a swarm on tokio's paused clock: sleeps, timeouts and retry backoffs take
//!   virtual time only; seeded trace ids and retry waits; no spinning; real-time parts refused.
//! - `cassette`: `baton run --record/--replay` against the mock: the same transcript without
//!   the server, a changed instruction flagged; `Recorder`/`Replay` under 20 concurrent runs.

mod http_support;
mod support;

mod bad_input;
mod bounds;
mod call_ids;
mod cassette;
mod chat_http;
mod cli;
mod cli_http;
mod cli_output;
mod cli_sim;
mod command_tools;
mod docs;
mod embed;
mod embed_live;
mod errors_as_outputs;
mod features;
mod handoff;
mod http_tools;
mod limits;
mod many_conversations;
mod mcp_servers;
mod mock_bounds;
mod mock_server;
mod model_errors;
mod parallel_tools;
mod quirks;
mod real_server;
mod resilience;
mod responses_http;
mod secrets;
mod shard_blocking;
mod simulation;
mod tool_seam;
mod tool_workers;
mod topology;
mod turn_loop;
mod url_secrets;
mod virtual_time;
