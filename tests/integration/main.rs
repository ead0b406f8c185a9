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

mod http_support;
mod support;

mod bad_input;
mod call_ids;
mod chat_http;
mod cli;
mod cli_http;
mod embed;
mod errors_as_outputs;
mod handoff;
mod limits;
mod many_conversations;
mod mock_bounds;
mod mock_server;
mod model_errors;
mod parallel_tools;
mod quirks;
mod real_server;
mod resilience;
mod responses_http;
mod secrets;
mod topology;
mod turn_loop;
mod url_secrets;
