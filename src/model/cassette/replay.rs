//! `Replay`: a model that answers from a [`Cassette`](super::Cassette)'s recorded exchanges,
//! and flags a request that no longer matches any of them.
//!
//! A request is answered by a recorded exchange with the same agent, the same agent and run
//! turns, and exactly the same instructions, tools and input items; the settings and
//! `parallel_tool_calls` are recorded but not compared. Several identical exchanges (many
//! runs of one conversation) answer in recording order, each once; past the last, the last
//! one answers again, so a cassette of one run replays any number of identical runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;

use super::{Exchange, diff};
use crate::item::{Item, Role};
use crate::model::{Model, ModelError, ModelRequest, ModelResponse};

/// Answers model requests from recorded exchanges, deterministically, without the model.
///
/// Made by [`Cassette::replay`](super::Cassette::replay) for every model entry, narrowed to
/// one with [`Replay::for_model`]. Clones and narrowed views share which exchanges have
/// answered, so one cassette can serve every model of a swarm and many runs at once.
///
/// A request with no exact match fails with [`ModelError::Cassette`], which names the agent
/// and turn and says what differs from the closest recorded exchange for them (the
/// instructions around their first difference, the tools added, removed or changed, the
/// first input item that differs), or that the cassette has no such turn.
#[derive(Debug, Clone)]
pub struct Replay {
    state: Arc<State>,
    /// Only exchanges of this model entry answer; `None`: any.
    model: Option<String>,
    /// Whether the recorded model took images (so tool images reach the request as they did).
    takes_images: bool,
}

/// The exchanges and which of them have answered.
#[derive(Debug)]
struct State {
    exchanges: Vec<Exchange>,
    /// agent -> (agent_turn, run_turn) -> indices into `exchanges`, in recording order.
    by_turn: HashMap<String, HashMap<(u32, u32), Vec<usize>>>,
    /// Whether each exchange has answered a request. Never held across an `.await`.
    used: Mutex<Vec<bool>>,
}

impl Replay {
    pub(super) fn new(exchanges: Vec<Exchange>) -> Self {
        let mut by_turn: HashMap<String, HashMap<(u32, u32), Vec<usize>>> = HashMap::new();
        for (index, exchange) in exchanges.iter().enumerate() {
            by_turn
                .entry(exchange.agent.clone())
                .or_default()
                .entry((exchange.agent_turn, exchange.run_turn))
                .or_default()
                .push(index);
        }
        let takes_images = exchanges.iter().any(|e| e.takes_images);
        let used = Mutex::new(vec![false; exchanges.len()]);
        Replay {
            state: Arc::new(State {
                exchanges,
                by_turn,
                used,
            }),
            model: None,
            takes_images,
        }
    }

    /// The same replay, answering only with the exchanges of model entry `model` (sharing
    /// which exchanges have answered with `self`).
    pub fn for_model(&self, model: impl Into<String>) -> Replay {
        let model = model.into();
        let takes_images = self
            .state
            .exchanges
            .iter()
            .any(|e| e.model == model && e.takes_images);
        Replay {
            state: Arc::clone(&self.state),
            model: Some(model),
            takes_images,
        }
    }

    /// How many recorded exchanges it can answer with.
    pub fn len(&self) -> usize {
        self.state
            .exchanges
            .iter()
            .filter(|e| self.serves(e))
            .count()
    }

    /// Whether it has no exchange to answer with.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn serves(&self, exchange: &Exchange) -> bool {
        self.model.as_ref().is_none_or(|m| *m == exchange.model)
    }

    /// The exchanges recorded for this agent at this agent turn and run turn, that this
    /// replay serves.
    fn candidates(&self, agent: &str, agent_turn: u32, run_turn: u32) -> Vec<usize> {
        self.state
            .by_turn
            .get(agent)
            .and_then(|turns| turns.get(&(agent_turn, run_turn)))
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|&i| self.serves(&self.state.exchanges[i]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The answer of the first unused exact match (else the last one), marked used.
    fn answer(&self, request: &ModelRequest<'_>) -> Option<&Exchange> {
        let ctx = &request.context;
        let exact: Vec<usize> = self
            .candidates(ctx.agent, ctx.agent_turn, ctx.run_turn)
            .into_iter()
            .filter(|&i| diff::matches(&self.state.exchanges[i], request))
            .collect();
        let last = *exact.last()?;
        let mut used = self
            .state
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let chosen = exact.into_iter().find(|&i| !used[i]).unwrap_or(last);
        used[chosen] = true;
        Some(&self.state.exchanges[chosen])
    }

    /// Why nothing recorded matches `request`.
    fn mismatch(&self, request: &ModelRequest<'_>) -> ModelError {
        let ctx = &request.context;
        let error = |mismatch: String| ModelError::Cassette {
            agent: ctx.agent.to_owned(),
            turn: ctx.agent_turn.saturating_add(1),
            run_turn: ctx.run_turn.saturating_add(1),
            mismatch,
        };
        let exchanges = &self.state.exchanges;
        let closest = |list: &[usize]| {
            // The earliest of the closest, so the message is the same on every run.
            list.iter()
                .copied()
                .rev()
                .max_by_key(|&i| diff::closeness(&exchanges[i], request))
        };

        let same_turn = self.candidates(ctx.agent, ctx.agent_turn, ctx.run_turn);
        if let Some(i) = closest(&same_turn) {
            return error(diff::describe(&exchanges[i], request));
        }
        let of_agent: Vec<usize> = (0..exchanges.len())
            .filter(|&i| exchanges[i].agent == ctx.agent && self.serves(&exchanges[i]))
            .collect();
        let at_other_run_turns: Vec<usize> = of_agent
            .iter()
            .copied()
            .filter(|&i| exchanges[i].agent_turn == ctx.agent_turn)
            .collect();
        if let Some(i) = closest(&at_other_run_turns) {
            let recorded = &exchanges[i];
            let mut message = format!(
                "the cassette has this turn at run turn {}, not {}",
                recorded.run_turn + 1,
                ctx.run_turn.saturating_add(1)
            );
            if !diff::matches(recorded, request) {
                message.push_str("; ");
                message.push_str(&diff::describe(recorded, request));
            }
            return error(message);
        }
        if let Some(model) = &self.model {
            let elsewhere: Vec<&str> = exchanges
                .iter()
                .filter(|e| e.agent == ctx.agent && e.agent_turn == ctx.agent_turn)
                .map(|e| e.model.as_str())
                .collect();
            if let Some(other) = elsewhere.first() {
                return error(format!(
                    "the cassette has this turn for model `{other}`, not `{model}`"
                ));
            }
        }
        if let Some(turns) = of_agent.iter().map(|&i| exchanges[i].agent_turn + 1).max() {
            return error(format!(
                "no recorded exchange for agent `{}` turn {} (the cassette has {turns} turn(s) of agent `{}`)",
                ctx.agent,
                ctx.agent_turn.saturating_add(1),
                ctx.agent
            ));
        }
        let mut agents: Vec<&str> = exchanges
            .iter()
            .filter(|e| self.serves(e))
            .map(|e| e.agent.as_str())
            .collect();
        agents.dedup();
        agents.sort_unstable();
        agents.dedup();
        error(if agents.is_empty() {
            "the cassette holds no exchange for this model".to_owned()
        } else {
            format!(
                "the cassette has no exchange of agent `{}` (only of {})",
                ctx.agent,
                agents
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

impl Model for Replay {
    fn takes_images(&self) -> bool {
        self.takes_images
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let outcome = match self.answer(&request) {
            Some(exchange) => exchange.outcome.clone(),
            None => Err(self.mismatch(&request)),
        };
        if let (Ok(response), Some(events)) = (&outcome, request.context.events) {
            // As the scripted model does: each text at once, for streamed runs.
            for item in &response.output {
                if let Item::Message {
                    role: Role::Assistant,
                    content,
                    ..
                } = item
                {
                    events.text_delta(request.context.agent, content.clone());
                }
            }
        }
        Box::pin(std::future::ready(outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FunctionTool, ModelSettings, RequestContext, Usage};
    use serde_json::json;

    fn exchange(
        agent: &str,
        agent_turn: u32,
        run_turn: u32,
        input: &[Item],
        answer: &str,
    ) -> Exchange {
        Exchange {
            model: "default".to_owned(),
            agent: agent.to_owned(),
            agent_turn,
            run_turn,
            takes_images: false,
            instructions: format!("You are {agent}."),
            input: input.to_vec(),
            tools: vec![tool("add")],
            parallel_tool_calls: true,
            settings: ModelSettings::default(),
            outcome: Ok(ModelResponse {
                output: vec![Item::assistant(answer)],
                usage: Usage {
                    requests: 1,
                    ..Usage::default()
                },
            }),
        }
    }

    fn tool(name: &str) -> FunctionTool {
        FunctionTool {
            name: name.to_owned(),
            description: format!("{name}s."),
            parameters: json!({"type": "object"}),
        }
    }

    struct Ask<'a> {
        agent: &'a str,
        agent_turn: u32,
        run_turn: u32,
        instructions: String,
        input: Vec<Item>,
        tools: Vec<FunctionTool>,
    }

    impl<'a> Ask<'a> {
        fn new(agent: &'a str, agent_turn: u32, run_turn: u32, input: &[Item]) -> Self {
            Ask {
                agent,
                agent_turn,
                run_turn,
                instructions: format!("You are {agent}."),
                input: input.to_vec(),
                tools: vec![tool("add")],
            }
        }

        fn to(&self, replay: &Replay) -> Result<String, String> {
            let settings = ModelSettings::default();
            let request = ModelRequest {
                instructions: &self.instructions,
                input: &self.input,
                tools: &self.tools,
                parallel_tool_calls: true,
                settings: &settings,
                context: RequestContext {
                    agent: self.agent,
                    agent_turn: self.agent_turn,
                    run_turn: self.run_turn,
                    trace_id: "t",
                    events: None,
                },
            };
            futures::executor::block_on(replay.respond(request))
                .map(|r| r.output_text())
                .map_err(|e| e.to_string())
        }
    }

    fn hi() -> Vec<Item> {
        vec![Item::user("hi")]
    }

    #[test]
    fn identical_requests_get_the_recorded_answers_in_recording_order_then_the_last_again() {
        let replay = Replay::new(vec![
            exchange("a", 0, 0, &hi(), "first"),
            exchange("a", 0, 0, &[Item::user("other")], "other"),
            exchange("a", 0, 0, &hi(), "second"),
        ]);
        let ask = Ask::new("a", 0, 0, &hi());
        assert_eq!(ask.to(&replay).as_deref(), Ok("first"));
        assert_eq!(ask.to(&replay).as_deref(), Ok("second"));
        assert_eq!(ask.to(&replay).as_deref(), Ok("second"));
        let other = Ask::new("a", 0, 0, &[Item::user("other")]);
        assert_eq!(other.to(&replay).as_deref(), Ok("other"));
    }

    #[test]
    fn a_changed_request_is_flagged_with_what_differs_from_the_closest_exchange() {
        let replay = Replay::new(vec![
            exchange("a", 0, 0, &hi(), "hello"),
            exchange(
                "a",
                1,
                1,
                &[Item::user("hi"), Item::assistant("x")],
                "again",
            ),
        ]);
        let mut ask = Ask::new("a", 0, 0, &hi());
        ask.instructions = "You are b.".to_owned();
        assert_eq!(
            ask.to(&replay).unwrap_err(),
            "replay: no recorded exchange matches agent `a` turn 1 (run turn 1): instructions differ at character 9: recorded \"You are a.\", now \"You are b.\""
        );
        let mut ask = Ask::new("a", 0, 0, &hi());
        ask.tools.push(tool("sqrt"));
        assert!(
            ask.to(&replay)
                .unwrap_err()
                .ends_with(": tools differ: added `sqrt`")
        );
        let ask = Ask::new("a", 1, 1, &[Item::user("hi"), Item::assistant("y")]);
        assert!(
            ask.to(&replay)
                .unwrap_err()
                .ends_with(": input differs at item 2: recorded assistant message \"x\", now assistant message \"y\"")
        );
    }

    #[test]
    fn a_turn_the_cassette_lacks_is_flagged_with_what_it_has() {
        let replay = Replay::new(vec![
            exchange("a", 0, 0, &hi(), "hello"),
            exchange("a", 1, 2, &hi(), "again"),
            exchange("b", 0, 1, &hi(), "b"),
        ]);
        assert_eq!(
            Ask::new("a", 2, 3, &hi()).to(&replay).unwrap_err(),
            "replay: no recorded exchange matches agent `a` turn 3 (run turn 4): no recorded exchange for agent `a` turn 3 (the cassette has 2 turn(s) of agent `a`)"
        );
        assert!(
            Ask::new("a", 1, 1, &hi())
                .to(&replay)
                .unwrap_err()
                .ends_with(": the cassette has this turn at run turn 3, not 2")
        );
        assert!(
            Ask::new("c", 0, 0, &hi())
                .to(&replay)
                .unwrap_err()
                .ends_with(": the cassette has no exchange of agent `c` (only of `a`, `b`)")
        );
        let other_model = replay.for_model("fast");
        assert!(other_model.is_empty());
        assert!(
            Ask::new("a", 0, 0, &hi())
                .to(&other_model)
                .unwrap_err()
                .ends_with(": the cassette has this turn for model `default`, not `fast`")
        );
        assert_eq!(replay.for_model("default").len(), 3);
    }

    #[test]
    fn narrowed_views_share_which_exchanges_have_answered() {
        let replay = Replay::new(vec![
            exchange("a", 0, 0, &hi(), "first"),
            exchange("a", 0, 0, &hi(), "second"),
        ]);
        let ask = Ask::new("a", 0, 0, &hi());
        assert_eq!(ask.to(&replay.for_model("default")).as_deref(), Ok("first"));
        assert_eq!(ask.to(&replay.clone()).as_deref(), Ok("second"));
    }

    #[test]
    fn a_recorded_error_is_given_back() {
        let mut failed = exchange("a", 0, 0, &hi(), "");
        failed.outcome = Err(ModelError::Api {
            endpoint: "POST http://127.0.0.1:1/v1/responses".to_owned(),
            status: 400,
            code: None,
            message: "bad request".to_owned(),
            retry_after: None,
        });
        let replay = Replay::new(vec![failed]);
        assert_eq!(
            Ask::new("a", 0, 0, &hi()).to(&replay).unwrap_err(),
            "POST http://127.0.0.1:1/v1/responses: HTTP 400: bad request"
        );
    }
}
