//! An agent's simulated behaviour: its steps prepared once (templates parsed, regexes
//! compiled), the step that applies to a request, and the output items a turn becomes.
//!
//! Preparing is done when the simulation starts, so a request costs a scan of its steps'
//! conditions and the filling of one turn's templates, nothing more.

use regex::Regex;
use serde_json::Value;

use super::spec::{Condition, SimCall, SimTurn, Step};
use crate::item::{Item, unique_call_id};
use crate::model::scripted::{handoff_for, latest_user_message, output_of};
use crate::model::{ModelError, ModelRequest, ScriptedModel};

/// One agent's steps, ready to play.
#[derive(Debug)]
pub(crate) struct Behaviour {
    steps: Vec<Prepared>,
}

#[derive(Debug)]
struct Prepared {
    when: Vec<Condition>,
    weights: Vec<f64>,
    turns: Vec<Turn>,
}

/// A turn with its templates parsed.
#[derive(Debug)]
pub(crate) struct Turn {
    text: Option<Template>,
    calls: Vec<Call>,
}

#[derive(Debug)]
enum Call {
    Tool {
        name: String,
        args: Args,
        id: Option<String>,
    },
    Handoff {
        agent: String,
    },
}

/// A call's arguments: a string sent as written (after filling), or JSON whose strings are
/// templates.
#[derive(Debug)]
enum Args {
    Raw(Template),
    Json(JsonTemplate),
}

#[derive(Debug)]
enum JsonTemplate {
    /// Holds no template: sent as it is.
    Fixed(Value),
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

/// A text with `{{input}}`, `{{output:<id>}}` and `{{match:<regex>}}` references.
#[derive(Debug)]
struct Template {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    Input,
    Output(String),
    Match(Regex),
}

/// A template that would grow past [`ScriptedModel::MAX_TEXT_BYTES`].
#[derive(Debug)]
pub(crate) struct TooLong;

impl Behaviour {
    /// Prepares `steps`; a `{{match:...}}` whose regex does not compile is an error naming it.
    pub(crate) fn new(steps: &[Step]) -> Result<Self, String> {
        let steps = steps
            .iter()
            .map(|step| {
                let turns = step
                    .choices
                    .iter()
                    .map(|c| Turn::new(&c.turn))
                    .collect::<Result<_, _>>()?;
                Ok(Prepared {
                    when: step.when.clone(),
                    weights: step.choices.iter().map(|c| c.weight.max(0.0)).collect(),
                    turns,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Behaviour { steps })
    }

    /// The turn for `request`: the first step whose conditions hold, and its choice for the
    /// draw `u`. `None` when no step applies.
    pub(crate) fn choose(&self, request: &ModelRequest<'_>, u: f64) -> Option<&Turn> {
        let step = self
            .steps
            .iter()
            .find(|step| step.when.iter().all(|c| holds(c, request)))?;
        let index = super::chance::Chance::pick(step.weights.iter().copied(), u);
        step.turns.get(index)
    }

    /// How many steps there are (for messages).
    pub(crate) fn len(&self) -> usize {
        self.steps.len()
    }
}

/// Whether `condition` holds for `request`.
fn holds(condition: &Condition, request: &ModelRequest<'_>) -> bool {
    match condition {
        Condition::Turn(n) => request.context.agent_turn.saturating_add(1) == *n,
        Condition::InputMatches(re) => {
            latest_user_message(request.input).is_some_and(|t| re.is_match(t))
        }
        Condition::OutputContains { tool, text } => {
            latest_output(request.input, tool.as_deref()).is_some_and(|o| o.contains(text.as_str()))
        }
        Condition::Not(inner) => !holds(inner, request),
        // A condition a newer spec added: it does not hold here.
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The latest call output, of a call to `tool` if given.
fn latest_output<'a>(input: &'a [Item], tool: Option<&str>) -> Option<&'a str> {
    input.iter().rev().find_map(|item| match item {
        Item::FunctionCallOutput {
            call_id, output, ..
        } => match tool {
            None => Some(output.as_str()),
            Some(tool) => input
                .iter()
                .any(|i| matches!(i, Item::FunctionCall { call_id: c, name, .. } if c == call_id && name == tool))
                .then_some(output.as_str()),
        },
        _ => None,
    })
}

impl Turn {
    fn new(turn: &SimTurn) -> Result<Self, String> {
        let calls = turn
            .calls
            .iter()
            .map(|call| {
                Ok(match call {
                    SimCall::Tool { name, args, id } => Call::Tool {
                        name: name.clone(),
                        args: match args {
                            Value::String(text) => Args::Raw(Template::parse(text)?),
                            other => Args::Json(JsonTemplate::parse(other)?),
                        },
                        id: id.clone(),
                    },
                    SimCall::Handoff { agent } => Call::Handoff {
                        agent: agent.clone(),
                    },
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Turn {
            text: turn.text.as_deref().map(Template::parse).transpose()?,
            calls,
        })
    }

    /// Whether the turn calls a tool (faults that change calls apply only to such turns).
    pub(crate) fn has_tool_calls(&self) -> bool {
        self.calls.iter().any(|c| matches!(c, Call::Tool { .. }))
    }

    /// The output items of this turn for `request`: its text, then its calls, with ids
    /// unique in the conversation (unnamed ones `call_<run turn>_<index>`).
    pub(crate) fn play(&self, request: &ModelRequest<'_>) -> Result<Vec<Item>, ModelError> {
        let ctx = request.context;
        let too_long = |TooLong| {
            ModelError::Other(format!(
                "simulated turn of agent `{}`: a template would expand past {} bytes",
                ctx.agent,
                ScriptedModel::MAX_TEXT_BYTES
            ))
        };
        let mut output = Vec::with_capacity(self.calls.len() + 1);
        if let Some(text) = &self.text {
            output.push(Item::assistant(text.fill(request.input).map_err(too_long)?));
        }
        for (index, call) in self.calls.iter().enumerate() {
            let taken = |id: &str| {
                request.input.iter().any(|item| item.call_id() == Some(id))
                    || output.iter().any(|item: &Item| item.call_id() == Some(id))
            };
            let default_id = || format!("call_{}_{}", ctx.run_turn + 1, index + 1);
            let item = match call {
                Call::Tool { name, args, id } => {
                    let arguments = match args {
                        Args::Raw(template) => template.fill(request.input),
                        Args::Json(json) => json.fill(request.input).map(|v| v.to_string()),
                    }
                    .map_err(too_long)?;
                    let id = unique_call_id(&id.clone().unwrap_or_else(default_id), taken);
                    Item::function_call(id, name.clone(), arguments)
                }
                Call::Handoff { agent } => {
                    let (name, arguments) = handoff_for(request, agent)?;
                    let id = unique_call_id(&default_id(), taken);
                    Item::function_call(id, name, arguments)
                }
            };
            output.push(item);
        }
        Ok(output)
    }
}

impl Template {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                break;
            };
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let key = after[..end].trim();
            let part = if key == "input" {
                Part::Input
            } else if let Some(id) = key.strip_prefix("output:") {
                Part::Output(id.trim().to_owned())
            } else if let Some(pattern) = key.strip_prefix("match:") {
                Part::Match(
                    Regex::new(pattern).map_err(|e| format!("`{{{{match:{pattern}}}}}`: {e}"))?,
                )
            } else {
                Part::Text(rest[start..start + 2 + end + 2].to_owned())
            };
            parts.push(part);
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    fn is_plain(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The text with its references filled from the conversation (a reference that finds
    /// nothing is left as written).
    fn fill(&self, input: &[Item]) -> Result<String, TooLong> {
        let mut out = String::new();
        for part in &self.parts {
            let piece: std::borrow::Cow<'_, str> = match part {
                Part::Text(text) => text.as_str().into(),
                Part::Input => latest_user_message(input).unwrap_or("").into(),
                Part::Output(id) => output_of(input, id)
                    .map_or_else(|| format!("{{{{output:{id}}}}}").into(), Into::into),
                Part::Match(re) => latest_user_message(input)
                    .and_then(|text| re.captures(text))
                    .and_then(|c| c.get(1).or_else(|| c.get(0)))
                    .map_or("", |m| m.as_str())
                    .into(),
            };
            if out.len() + piece.len() > ScriptedModel::MAX_TEXT_BYTES {
                return Err(TooLong);
            }
            out.push_str(&piece);
        }
        Ok(out)
    }

    /// As JSON: a template that is one reference and reads as a number, `true`, `false` or
    /// `null` becomes that value; anything else a string.
    fn fill_json(&self, input: &[Item]) -> Result<Value, TooLong> {
        let text = self.fill(input)?;
        if self.parts.len() == 1
            && !self.is_plain()
            && let Ok(value @ (Value::Number(_) | Value::Bool(_) | Value::Null)) =
                serde_json::from_str::<Value>(text.trim())
        {
            return Ok(value);
        }
        Ok(Value::String(text))
    }
}

impl JsonTemplate {
    fn parse(value: &Value) -> Result<Self, String> {
        Ok(match value {
            Value::String(text) => {
                let template = Template::parse(text)?;
                if template.is_plain() {
                    JsonTemplate::Fixed(value.clone())
                } else {
                    JsonTemplate::String(template)
                }
            }
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(Self::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| matches!(i, JsonTemplate::Fixed(_))) {
                    JsonTemplate::Fixed(value.clone())
                } else {
                    JsonTemplate::Array(items)
                }
            }
            Value::Object(fields) => {
                let fields = fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Self::parse(v)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if fields
                    .iter()
                    .all(|(_, v)| matches!(v, JsonTemplate::Fixed(_)))
                {
                    JsonTemplate::Fixed(value.clone())
                } else {
                    JsonTemplate::Object(fields)
                }
            }
            other => JsonTemplate::Fixed(other.clone()),
        })
    }

    fn fill(&self, input: &[Item]) -> Result<Value, TooLong> {
        Ok(match self {
            JsonTemplate::Fixed(value) => value.clone(),
            JsonTemplate::String(template) => template.fill_json(input)?,
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.fill(input))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.fill(input)?)))
                    .collect::<Result<_, TooLong>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSettings, RequestContext};
    use serde_json::json;

    fn request<'a>(input: &'a [Item], settings: &'a ModelSettings, turn: u32) -> ModelRequest<'a> {
        ModelRequest {
            instructions: "",
            input,
            tools: &[],
            parallel_tool_calls: true,
            settings,
            context: RequestContext {
                agent: "refunds",
                agent_turn: turn,
                run_turn: 2,
                trace_id: "t",
                events: None,
            },
        }
    }

    #[test]
    fn arguments_are_taken_from_the_conversation() {
        let turn = SimTurn::calls([SimCall::tool(
            "multiply",
            json!({"a": "{{match:(\\d+) mugs}}", "b": "{{match:at ([0-9.]+)}}", "note": "for {{input}}"}),
        )
        .with_id("refund")]);
        let turn = Turn::new(&turn).unwrap();
        let input = [Item::user("2 mugs at 19.99 each")];
        let settings = ModelSettings::default();
        let items = turn.play(&request(&input, &settings, 0)).unwrap();
        let Item::FunctionCall {
            arguments, call_id, ..
        } = &items[0]
        else {
            panic!("{items:?}")
        };
        assert_eq!(call_id, "refund");
        let args: Value = serde_json::from_str(arguments).unwrap();
        assert_eq!(
            args,
            json!({"a": 2, "b": 19.99, "note": "for 2 mugs at 19.99 each"})
        );
    }

    #[test]
    fn the_first_step_whose_conditions_hold_plays() {
        let steps = [
            Step::always(SimTurn::text("refund"))
                .when(Condition::InputMatches(Regex::new("(?i)refund").unwrap())),
            Step::always(SimTurn::text("second")).when(Condition::Turn(2)),
            Step::choose([(70.0, SimTurn::text("a")), (30.0, SimTurn::text("b"))]),
        ];
        let behaviour = Behaviour::new(&steps).unwrap();
        let settings = ModelSettings::default();
        let text = |input: &[Item], turn: u32, u: f64| {
            let turn = behaviour
                .choose(&request(input, &settings, turn), u)
                .unwrap();
            crate::item::output_text(&turn.play(&request(input, &settings, 0)).unwrap())
        };
        assert_eq!(text(&[Item::user("A Refund please")], 0, 0.9), "refund");
        assert_eq!(text(&[Item::user("hi")], 1, 0.9), "second");
        assert_eq!(text(&[Item::user("hi")], 0, 0.5), "a");
        assert_eq!(text(&[Item::user("hi")], 0, 0.8), "b");
        assert!(Behaviour::new(&[Step::always(SimTurn::text("{{match:(}}"))]).is_err());
    }
}
