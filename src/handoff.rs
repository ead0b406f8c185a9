//! Handoffs: how an agent offers to pass the conversation on, and how a call is read.
//!
//! Two styles, picked per agent or per topology:
//! - [`HandoffStyle::Handoff`] (the lesson's): one `handoff` function whose `agent` argument is
//!   an enum of the allowed targets;
//! - [`HandoffStyle::Transfer`] (OpenAI Agents SDK, Swarm): one `transfer_to_<agent>` function
//!   per target.
//!
//! The turn loop asks `recognize` about every function call of a turn; what it does with the
//! answer (the first valid handoff wins, the others get error outputs) is in `agent::turn`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::FunctionTool;

/// The function name of the `handoff` style.
pub const HANDOFF_FUNCTION: &str = "handoff";
/// The function name prefix of the `transfer` style.
pub const TRANSFER_PREFIX: &str = "transfer_to_";

/// How an agent's handoffs are offered to the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStyle {
    /// One `handoff` function with an `agent` enum argument.
    #[default]
    Handoff,
    /// One `transfer_to_<agent>` function per target.
    Transfer,
}

/// A handoff target as offered to the model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The agent's name.
    pub(crate) name: &'a str,
    /// What it does (its description), for the model.
    pub(crate) description: &'a str,
}

/// Returns the function tools that offer `targets` in `style` (none if there are no targets).
pub(crate) fn functions(style: HandoffStyle, targets: &[Target<'_>]) -> Vec<FunctionTool> {
    if targets.is_empty() {
        return Vec::new();
    }
    match style {
        HandoffStyle::Handoff => {
            let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
            let mut description = String::from(
                "Hand the conversation to another agent, who will answer the user from here. Agents:",
            );
            for target in targets {
                description.push_str(&format!("\n- {}", target.name));
                if !target.description.is_empty() {
                    description.push_str(&format!(": {}", target.description));
                }
            }
            vec![FunctionTool {
                name: HANDOFF_FUNCTION.to_owned(),
                description,
                parameters: json!({
                    "type": "object",
                    "properties": {
                        "agent": {
                            "type": "string",
                            "enum": names,
                            "description": "The agent to hand the conversation to."
                        }
                    },
                    "required": ["agent"],
                    "additionalProperties": false
                }),
            }]
        }
        HandoffStyle::Transfer => targets
            .iter()
            .map(|target| FunctionTool {
                name: format!("{TRANSFER_PREFIX}{}", target.name),
                description: if target.description.is_empty() {
                    format!("Hand the conversation to the {} agent.", target.name)
                } else {
                    format!(
                        "Hand the conversation to the {} agent: {}",
                        target.name, target.description
                    )
                },
                parameters: json!({
                    "type": "object",
                    "properties": {},
                    "additionalProperties": false
                }),
            })
            .collect(),
    }
}

/// What a function call means, handoff-wise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recognized {
    /// Not a handoff function: a regular tool call.
    NotHandoff,
    /// A handoff to this agent name (not yet checked against the allowed targets).
    To(String),
    /// A handoff call whose arguments cannot be read.
    Malformed(String),
}

/// Reads a function call as a handoff, in `style`.
pub(crate) fn recognize(style: HandoffStyle, name: &str, arguments: &str) -> Recognized {
    match style {
        HandoffStyle::Handoff if name == HANDOFF_FUNCTION => {
            #[derive(Deserialize)]
            struct Args {
                agent: String,
            }
            match serde_json::from_str::<Args>(arguments) {
                Ok(args) => Recognized::To(args.agent),
                Err(e) => Recognized::Malformed(format!(
                    "invalid arguments for `handoff`: {e}; expected {{\"agent\": \"<name>\"}}"
                )),
            }
        }
        HandoffStyle::Transfer => match name.strip_prefix(TRANSFER_PREFIX) {
            Some(target) => Recognized::To(target.to_owned()),
            None => Recognized::NotHandoff,
        },
        HandoffStyle::Handoff => Recognized::NotHandoff,
    }
}

/// Why a handoff call did not move the conversation. Like tool errors, these are values: the
/// call's output says `error: <message>` and the turn loop goes on (except [`Refused`], after
/// which the run stops with [`RunError::HandoffLoop`](crate::RunError::HandoffLoop)).
///
/// [`Refused`]: HandoffError::Refused
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandoffError {
    /// No agent has this name.
    #[error("handoff to unknown agent `{target}`; `{from}` can hand off to: {allowed}")]
    UnknownAgent {
        /// The name the model gave.
        target: String,
        /// The agent handing off.
        from: String,
        /// Its allowed targets, comma separated.
        allowed: String,
    },
    /// The agent exists but is not one of this agent's targets.
    #[error("agent `{target}` is not a handoff target of `{from}`; it can hand off to: {allowed}")]
    NotAllowed {
        /// The name the model gave.
        target: String,
        /// The agent handing off.
        from: String,
        /// Its allowed targets, comma separated.
        allowed: String,
    },
    /// An earlier call of the same turn already handed off.
    #[error(
        "handoff ignored: this turn already hands off to `{taken}`, and only the first handoff of a turn is taken"
    )]
    Ignored {
        /// The target of the handoff that was taken.
        taken: String,
    },
    /// The handoff call's arguments cannot be read.
    #[error("{0}")]
    Malformed(String),
    /// The handoff-loop guard refused it.
    #[error("handoff to `{target}` refused: {reason}")]
    Refused {
        /// The target.
        target: String,
        /// Which limit tripped.
        reason: String,
    },
}

impl HandoffError {
    /// Returns the text sent to the model as the call's output.
    pub fn to_output(&self) -> String {
        format!("error: {self}")
    }
}

/// The output of a handoff call that moved the conversation.
pub(crate) fn done_output(target: &str) -> String {
    format!("handed off to {target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGETS: [Target<'static>; 2] = [
        Target {
            name: "billing",
            description: "Invoices and payments.",
        },
        Target {
            name: "refunds",
            description: "",
        },
    ];

    #[test]
    fn handoff_style_offers_one_function_with_an_agent_enum() {
        let fns = functions(HandoffStyle::Handoff, &TARGETS);
        assert_eq!(fns.len(), 1);
        assert_eq!(fns[0].name, "handoff");
        assert_eq!(
            fns[0].parameters["properties"]["agent"]["enum"],
            json!(["billing", "refunds"])
        );
        assert!(
            fns[0]
                .description
                .contains("- billing: Invoices and payments.")
        );
    }

    #[test]
    fn transfer_style_offers_one_function_per_target() {
        let names: Vec<String> = functions(HandoffStyle::Transfer, &TARGETS)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["transfer_to_billing", "transfer_to_refunds"]);
    }

    #[test]
    fn calls_are_recognized_per_style() {
        use Recognized::*;
        let h = HandoffStyle::Handoff;
        assert_eq!(
            recognize(h, "handoff", r#"{"agent":"billing"}"#),
            To("billing".into())
        );
        assert!(matches!(recognize(h, "handoff", "{}"), Malformed(_)));
        assert_eq!(recognize(h, "transfer_to_billing", "{}"), NotHandoff);
        let t = HandoffStyle::Transfer;
        assert_eq!(
            recognize(t, "transfer_to_billing", "{}"),
            To("billing".into())
        );
        assert_eq!(recognize(t, "handoff", "{}"), NotHandoff);
        assert_eq!(recognize(t, "add", "{}"), NotHandoff);
    }
}
