//! `ScriptedModel`: a deterministic model for offline runs, simulation and tests.
//!
//! Each agent has a list of turns; an agent's n-th request in a run gets its n-th turn (the turn
//! loop says which through [`RequestContext`](super::RequestContext)), so one model serves any
//! number of concurrent conversations without state per conversation. It checks every request
//! the way the OpenAI API does ([`check_history`]), never repeats a turn when the script runs out,
//! and can record the requests it got so tests can assert on them.
//!
//! Recording keeps a copy of every request, full history included, for as long as the model
//! lives, so it is for tests: a model made with [`ScriptedModel::new`] records (Rust tests build
//! their own), and the model a topology builds from its `scripted:` turns does not, since
//! `baton run`, the mock server and long-lived swarms serve it for ever. Turn it on with
//! [`ScriptedModel::set_recording`] before the runs a test asserts on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;

use super::{FunctionTool, Model, ModelError, ModelRequest, ModelResponse, Usage, check_history};
use crate::item::{Item, Role, base_call_id, unique_call_id};

/// One scripted function call: a tool call or a handoff.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScriptedCall {
    /// Calls a tool with these arguments (a JSON string, sent as written, so it may be invalid).
    Tool {
        /// The tool's name.
        name: String,
        /// The arguments JSON, as the model would write it.
        arguments: String,
        /// A fixed call id; `None` gives `call_<run turn>_<index>`.
        call_id: Option<String>,
    },
    /// Hands the conversation to `agent`, through whichever handoff function the request offers
    /// (`transfer_to_<agent>` or `handoff`).
    Handoff {
        /// The target agent.
        agent: String,
        /// A fixed call id; `None` gives `call_<run turn>_<index>`.
        call_id: Option<String>,
    },
}

impl ScriptedCall {
    /// A tool call with JSON arguments.
    ///
    /// ```
    /// use baton::model::ScriptedCall;
    /// let call = ScriptedCall::tool("add", serde_json::json!({"a": 1, "b": 2}));
    /// ```
    pub fn tool(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        ScriptedCall::Tool {
            name: name.into(),
            arguments: arguments.to_string(),
            call_id: None,
        }
    }

    /// A tool call whose arguments string is sent exactly as given (for testing bad JSON).
    pub fn tool_raw(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        ScriptedCall::Tool {
            name: name.into(),
            arguments: arguments.into(),
            call_id: None,
        }
    }

    /// A handoff to `agent`.
    pub fn handoff(agent: impl Into<String>) -> Self {
        ScriptedCall::Handoff {
            agent: agent.into(),
            call_id: None,
        }
    }

    /// Fixes the call id (so a later turn's text can quote the output with `{{output:<id>}}`).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        match &mut self {
            ScriptedCall::Tool { call_id, .. } | ScriptedCall::Handoff { call_id, .. } => {
                *call_id = Some(id.into());
            }
        }
        self
    }
}

/// One scripted model turn: optional text, then function calls.
///
/// A turn with no calls ends the run with its text. In the text, `{{output:<call_id>}}` is
/// replaced by that call's output from the conversation and `{{input}}` by the latest user
/// message, so offline answers show what the tools really returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScriptedTurn {
    /// Assistant text, if any.
    pub text: Option<String>,
    /// Function calls, in order.
    pub calls: Vec<ScriptedCall>,
}

impl ScriptedTurn {
    /// A final answer.
    pub fn text(text: impl Into<String>) -> Self {
        ScriptedTurn {
            text: Some(text.into()),
            calls: Vec::new(),
        }
    }

    /// A turn asking for these calls, all at once.
    pub fn calls(calls: impl IntoIterator<Item = ScriptedCall>) -> Self {
        ScriptedTurn {
            text: None,
            calls: calls.into_iter().collect(),
        }
    }

    /// A turn that only hands off.
    pub fn handoff(agent: impl Into<String>) -> Self {
        Self::calls([ScriptedCall::handoff(agent)])
    }

    /// Adds assistant text to the turn.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
}

/// A request as the [`ScriptedModel`] received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The agent that sent it.
    pub agent: String,
    /// The agent's 0-based turn in its run.
    pub agent_turn: u32,
    /// The instructions sent.
    pub instructions: String,
    /// The conversation sent.
    pub input: Vec<Item>,
    /// The function tools offered.
    pub tools: Vec<FunctionTool>,
    /// The `parallel_tool_calls` flag sent.
    pub parallel_tool_calls: bool,
}

impl RecordedRequest {
    /// Returns the names of the offered function tools.
    pub fn tool_names(&self) -> Vec<&str> {
        self.tools.iter().map(|t| t.name.as_str()).collect()
    }
}

/// A deterministic model: scripted turns per agent.
///
/// # Examples
///
/// ```
/// use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
/// use serde_json::json;
///
/// let model = ScriptedModel::new()
///     .with_agent("triage", [ScriptedTurn::handoff("calculator")])
///     .with_agent("calculator", [
///         ScriptedTurn::calls([
///             ScriptedCall::tool("add", json!({"a": 1, "b": 2})).with_id("sum"),
///             ScriptedCall::tool("sqrt", json!({"x": 16})),
///         ]),
///         ScriptedTurn::text("1 + 2 = {{output:sum}}"),
///     ]);
/// ```
#[derive(Debug, Default)]
pub struct ScriptedModel {
    /// agent name -> its turns, in order.
    scripts: HashMap<String, Vec<ScriptedTurn>>,
    /// Whether requests are kept for [`ScriptedModel::requests`].
    recording: AtomicBool,
    /// The kept requests, in arrival order (never locked across an await).
    requests: Mutex<Vec<RecordedRequest>>,
}

impl ScriptedModel {
    /// The most bytes a scripted text may expand to once `{{input}}` and `{{output:<id>}}`
    /// are replaced (1 MiB); a turn whose text would grow past it is a [`ModelError`] that
    /// names the agent and turn, not a huge answer. A text with no `{{` is sent as written.
    pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

    /// Creates a model with no scripts that records requests.
    pub fn new() -> Self {
        ScriptedModel {
            recording: AtomicBool::new(true),
            ..Self::default()
        }
    }

    /// Sets the turns of `agent`, replacing any it had.
    pub fn with_agent(
        mut self,
        agent: impl Into<String>,
        turns: impl IntoIterator<Item = ScriptedTurn>,
    ) -> Self {
        self.scripts
            .insert(agent.into(), turns.into_iter().collect());
        self
    }

    /// Sets whether requests are kept for [`requests`](Self::requests) (on for [`new`](Self::new),
    /// off for a topology's model).
    #[must_use]
    pub fn with_recording(self, on: bool) -> Self {
        self.set_recording(on);
        self
    }

    /// Turns request recording on or off. Every recorded request holds a copy of its
    /// conversation until [`clear_requests`](Self::clear_requests), so only tests turn it on
    /// (it is on for [`new`](Self::new), off for a topology's model).
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// Returns the turns scripted for `agent`.
    pub fn turns(&self, agent: &str) -> Option<&[ScriptedTurn]> {
        self.scripts.get(agent).map(Vec::as_slice)
    }

    /// Returns the names of the agents that have a script.
    pub fn agents(&self) -> impl Iterator<Item = &str> {
        self.scripts.keys().map(String::as_str)
    }

    /// Returns a copy of the requests received so far, in arrival order (none unless recording
    /// is on).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock_requests().clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock_requests().clear();
    }

    fn lock_requests(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        // A panic while holding this lock leaves a Vec that is still valid: keep using it.
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers `request` in process. Scripted turns use no tokens, so the usage counts the
    /// request and zero tokens (the mock server, which plays a real API, sends an estimate).
    fn answer(&self, request: &ModelRequest<'_>) -> Result<ModelResponse, ModelError> {
        let ctx = request.context;
        let mut response = self.answer_with(request, &|index| {
            format!("call_{}_{}", ctx.run_turn + 1, index + 1)
        })?;
        response.usage = Usage {
            requests: 1,
            ..Usage::default()
        };
        Ok(response)
    }

    /// Answers `request`, naming calls that have no scripted id with `default_id(index in
    /// the turn)`. The mock server uses its own ids, which say whose turn made them.
    pub(crate) fn answer_with(
        &self,
        request: &ModelRequest<'_>,
        default_id: &dyn Fn(usize) -> String,
    ) -> Result<ModelResponse, ModelError> {
        check_history(request.input)?;
        let ctx = request.context;
        if self.recording.load(Ordering::Relaxed) {
            self.lock_requests().push(RecordedRequest {
                agent: ctx.agent.to_owned(),
                agent_turn: ctx.agent_turn,
                instructions: request.instructions.to_owned(),
                input: request.input.to_vec(),
                tools: request.tools.to_vec(),
                parallel_tool_calls: request.parallel_tool_calls,
            });
        }
        let turns = self
            .scripts
            .get(ctx.agent)
            .ok_or_else(|| ModelError::NoScript {
                agent: ctx.agent.to_owned(),
            })?;
        let turn = turns
            .get(ctx.agent_turn as usize)
            .ok_or_else(|| ModelError::OutOfTurns {
                agent: ctx.agent.to_owned(),
                available: turns.len(),
                // Saturates: the mock server takes the turn from a client's call id.
                requested: ctx.agent_turn.saturating_add(1),
            })?;

        let mut output = Vec::with_capacity(turn.calls.len() + 1);
        if let Some(text) = &turn.text {
            let text = fill_template(text, request.input).map_err(|TooLong| {
                ModelError::Other(format!(
                    "scripted turn {} of agent `{}`: its text would expand past {} bytes \
                     (`{{{{input}}}}` and `{{{{output:...}}}}` are bounded by ScriptedModel::MAX_TEXT_BYTES)",
                    ctx.agent_turn + 1,
                    ctx.agent,
                    Self::MAX_TEXT_BYTES
                ))
            })?;
            if let Some(events) = ctx.events {
                events.text_delta(ctx.agent, text.clone());
            }
            output.push(Item::assistant(text));
        }
        for (index, call) in turn.calls.iter().enumerate() {
            // Ids unique in the conversation, even when it goes on past this script's first
            // run (a second user turn gets `sum__2` where the first got `sum`).
            let taken = |id: &str| {
                request.input.iter().any(|item| item.call_id() == Some(id))
                    || output.iter().any(|item: &Item| item.call_id() == Some(id))
            };
            let unique = |id: String| unique_call_id(&id, taken);
            let default_id = || default_id(index);
            let item = match call {
                ScriptedCall::Tool {
                    name,
                    arguments,
                    call_id,
                } => Item::function_call(
                    unique(call_id.clone().unwrap_or_else(default_id)),
                    name.clone(),
                    arguments.clone(),
                ),
                ScriptedCall::Handoff { agent, call_id } => {
                    let (name, arguments) = handoff_for(request, agent)?;
                    Item::function_call(
                        unique(call_id.clone().unwrap_or_else(default_id)),
                        name,
                        arguments,
                    )
                }
            };
            output.push(item);
        }
        let usage = estimate_usage(request, &output);
        Ok(ModelResponse { output, usage })
    }
}

impl Model for ScriptedModel {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(std::future::ready(self.answer(&request)))
    }
}

/// The function and arguments a scripted turn of `request`'s agent calls to hand off to
/// `target`, or the error that says the request offers no way to.
pub(crate) fn handoff_for(
    request: &ModelRequest<'_>,
    target: &str,
) -> Result<(String, String), ModelError> {
    let ctx = request.context;
    handoff_call(request, target).ok_or_else(|| ModelError::NoHandoffFunction {
        agent: ctx.agent.to_owned(),
        turn: ctx.agent_turn + 1,
        target: target.to_owned(),
    })
}

/// Picks the function a model would call to hand off to `target`, given the tools offered:
/// `transfer_to_<target>` if offered, else `handoff {"agent": target}`, else (in transfer style,
/// for a target that is not offered) the `transfer_to_<target>` a confused model would invent.
fn handoff_call(request: &ModelRequest<'_>, target: &str) -> Option<(String, String)> {
    let transfer = format!("transfer_to_{target}");
    let offered = |name: &str| request.tools.iter().any(|t| t.name == name);
    if offered(&transfer) {
        Some((transfer, "{}".to_owned()))
    } else if offered(crate::handoff::HANDOFF_FUNCTION) {
        let args = serde_json::json!({ "agent": target }).to_string();
        Some((crate::handoff::HANDOFF_FUNCTION.to_owned(), args))
    } else if request
        .tools
        .iter()
        .any(|t| t.name.starts_with(crate::handoff::TRANSFER_PREFIX))
    {
        Some((transfer, "{}".to_owned()))
    } else {
        None
    }
}

/// A filled template would pass [`ScriptedModel::MAX_TEXT_BYTES`].
#[derive(Debug, PartialEq)]
struct TooLong;

/// Replaces `{{output:<call_id>}}` and `{{input}}` in `text`, stopping before the result
/// passes [`ScriptedModel::MAX_TEXT_BYTES`] (so nothing larger is ever allocated).
fn fill_template(text: &str, input: &[Item]) -> Result<String, TooLong> {
    fill_template_within(text, input, ScriptedModel::MAX_TEXT_BYTES)
}

fn fill_template_within(text: &str, input: &[Item], max: usize) -> Result<String, TooLong> {
    if !text.contains("{{") {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len().min(max));
    let push = |out: &mut String, piece: &str| {
        if out.len() + piece.len() > max {
            return Err(TooLong);
        }
        out.push_str(piece);
        Ok(())
    };
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        push(&mut out, &rest[..start])?;
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            push(&mut out, &rest[start..])?;
            return Ok(out);
        };
        let key = after[..end].trim();
        match lookup(key, input) {
            Some(value) => push(&mut out, value)?,
            None => push(&mut out, &rest[start..start + 2 + end + 2])?,
        }
        rest = &after[end + 2..];
    }
    push(&mut out, rest)?;
    Ok(out)
}

fn lookup<'a>(key: &str, input: &'a [Item]) -> Option<&'a str> {
    if key == "input" {
        return latest_user_message(input);
    }
    output_of(input, key.strip_prefix("output:")?.trim())
}

/// The latest user message of a conversation (`{{input}}`).
pub(crate) fn latest_user_message(input: &[Item]) -> Option<&str> {
    input.iter().rev().find_map(|item| match item {
        Item::Message {
            role: Role::User,
            content,
            ..
        } => Some(content.as_str()),
        _ => None,
    })
}

/// The output of the latest call scripted with id `id` (`{{output:<id>}}`): `sum`, or
/// `sum__2` in a later user turn.
pub(crate) fn output_of<'a>(input: &'a [Item], id: &str) -> Option<&'a str> {
    input.iter().rev().find_map(|item| match item {
        Item::FunctionCallOutput {
            call_id, output, ..
        } if base_call_id(call_id) == id => Some(output.as_str()),
        _ => None,
    })
}

/// A deterministic token estimate (4 bytes a token), for the mock server's `usage`.
pub(crate) fn estimate_usage(request: &ModelRequest<'_>, output: &[Item]) -> Usage {
    fn bytes(item: &Item) -> usize {
        match item {
            Item::Message { content, .. } => content.len(),
            Item::FunctionCall {
                name, arguments, ..
            } => name.len() + arguments.len(),
            Item::FunctionCallOutput { output, .. } => output.len(),
            Item::Reasoning { fields } => fields.len() * 16,
        }
    }
    let input = request.instructions.len() + request.input.iter().map(bytes).sum::<usize>();
    let out = output.iter().map(bytes).sum::<usize>();
    let tokens = |n: usize| n.div_ceil(4) as u64;
    let mut usage = Usage {
        requests: 1,
        input_tokens: tokens(input),
        output_tokens: tokens(out),
        total_tokens: 0,
    };
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSettings, RequestContext};

    #[test]
    fn template_fills_outputs_and_input() {
        let input = [
            Item::user("what is 2+2"),
            Item::function_call("sum", "add", "{}"),
            Item::function_call_output("sum", "4"),
        ];
        assert_eq!(
            fill_template("{{input}} -> {{output:sum}} {{output:nope}}", &input).unwrap(),
            "what is 2+2 -> 4 {{output:nope}}"
        );
        assert_eq!(fill_template("open {{ end", &input).unwrap(), "open {{ end");
    }

    // See: issue 9
    #[test]
    fn a_template_stops_at_its_bound() {
        let input = [Item::user("abcd")];
        assert_eq!(
            fill_template_within("{{input}}-{{input}}", &input, 9).unwrap(),
            "abcd-abcd"
        );
        assert_eq!(
            fill_template_within("{{input}}-{{input}}", &input, 8),
            Err(TooLong)
        );
        // 2,000 references to a 100 KB input would be 200 MB.
        let big = [Item::user("x".repeat(100_000))];
        let text = "{{input}}".repeat(2_000);
        assert_eq!(fill_template(&text, &big), Err(TooLong));
    }

    #[test]
    fn the_last_possible_turn_is_out_of_turns_not_an_overflow() {
        let model = ScriptedModel::new().with_agent("a", [ScriptedTurn::text("hi")]);
        let settings = ModelSettings::default();
        let request = ModelRequest {
            instructions: "",
            input: &[],
            tools: &[],
            parallel_tool_calls: true,
            settings: &settings,
            context: RequestContext {
                agent: "a",
                agent_turn: u32::MAX,
                run_turn: 0,
                trace_id: "t",
                events: None,
            },
        };
        assert!(matches!(
            model.answer(&request),
            Err(ModelError::OutOfTurns {
                available: 1,
                requested: u32::MAX,
                ..
            })
        ));
    }
}
