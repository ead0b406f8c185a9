//! An agent's simulated steps as written: conditions, one turn or weighted choices.

use schemars::JsonSchema;

use crate::topology::quantity::{RegexField, Weight};
use crate::topology::raw::RawTurn;
use crate::topology::read::{Count, Fields, FromNode, Located, Reader};
use crate::topology::tree::{Node, Value};

/// One step of an agent's behaviour: when it applies, and the turn it plays (written inline,
/// as a `scripted:` turn) or the weighted turns it chooses from.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// What must hold for it to apply (every condition given); left out: always.
    pub(crate) when: Option<RawWhen>,
    /// Turns to choose from by weight, instead of one turn.
    pub(crate) choose: Option<Vec<Located<RawChoice>>>,
    #[serde(flatten)]
    pub(crate) turn: RawTurn,
}

impl FromNode for RawStep {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a simulated step")?;
        let inline = RawTurn::FIELDS.iter().any(|k| f.has(k));
        let step = RawStep {
            when: f.get("when"),
            choose: f.get("choose"),
            turn: RawTurn::read_fields(&mut f),
        };
        match (f.node("choose"), inline) {
            (Some(_), true) => f.reader.error(
                node,
                "a step plays one turn (`text`, `calls`, `handoff`) or chooses one (`choose`), not both",
                None,
            ),
            (Some(choose), false) if matches!(&choose.value, Value::Seq(list) if list.is_empty()) => {
                f.reader.error(choose, "`choose` needs at least one choice", None);
            }
            (None, _) => check_turn(&mut f, node, inline, &step.turn, "a step"),
            (Some(_), false) => {}
        }
        f.finish();
        Some(step)
    }
}

/// Reports a turn that plays nothing.
fn check_turn(f: &mut Fields<'_, '_, '_>, node: &Node, given: bool, turn: &RawTurn, what: &str) {
    if !given {
        f.reader.error(
            node,
            format!("{what} needs a turn: `text`, `calls` or `handoff`"),
            None,
        );
    } else if turn.is_empty() && !f.has("text") && !f.has("handoff") {
        // Only `calls: []`.
        f.reader.error(
            node,
            format!("{what} plays an empty turn"),
            Some("give it `text` or calls".to_owned()),
        );
    }
}

/// One weighted choice of a step.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChoice {
    /// Its weight, relative to the step's other choices (more than zero).
    #[schemars(required)]
    pub(crate) weight: Option<Weight>,
    #[serde(flatten)]
    pub(crate) turn: RawTurn,
}

impl FromNode for RawChoice {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a choice")?;
        let given = RawTurn::FIELDS.iter().any(|k| f.has(k));
        let choice = RawChoice {
            weight: f.required("weight"),
            turn: RawTurn::read_fields(&mut f),
        };
        check_turn(&mut f, node, given, &choice.turn, "a choice");
        f.finish();
        Some(choice)
    }
}

/// Conditions on the conversation; a step applies when all hold.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWhen {
    /// The agent's request in this run is its n-th (1-based).
    pub(crate) turn: Option<Count>,
    /// The latest user message matches this regex.
    pub(crate) input_matches: Option<RegexField>,
    /// The latest output of a call (of any tool, or of `tool`) contains the text.
    pub(crate) output_contains: Option<RawOutputContains>,
    /// This condition does not hold.
    pub(crate) not: Option<Box<RawWhen>>,
}

impl FromNode for RawWhen {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let field = r.field;
        let mut f = Fields::new(r, node, "a condition")?;
        if f.keys().next().is_none() {
            let hint = if field == "not" {
                "write the condition that must not hold"
            } else {
                "leave `when` out for a step that always applies"
            };
            f.reader.error(
                node,
                format!("`{field}` needs a condition"),
                Some(hint.to_owned()),
            );
        } else if field == "not" && f.keys().nth(1).is_some() {
            f.reader.error(
                node,
                "`not` takes one condition",
                Some("write one `not` per condition".to_owned()),
            );
        }
        let when = RawWhen {
            turn: f.get("turn"),
            input_matches: f.get("input_matches"),
            output_contains: f.get("output_contains"),
            not: f.node("not").and_then(|n| {
                f.reader.field = "not";
                RawWhen::read(n, f.reader).map(Box::new)
            }),
        };
        f.finish();
        Some(when)
    }
}

/// `output_contains`: a text (in the latest output of any tool), or `{tool, text}`.
#[derive(Debug, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum RawOutputContains {
    /// The text, in the latest output of any tool.
    Any(String),
    /// The text, in the latest output of this tool.
    Of {
        /// The tool.
        tool: Located<String>,
        /// The text.
        text: String,
    },
}

impl FromNode for RawOutputContains {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        if !matches!(node.value, Value::Map(_)) {
            return r.string(node).map(RawOutputContains::Any);
        }
        let mut f = Fields::new(r, node, "an output condition")?;
        let tool = f.required("tool");
        let text = f.required("text");
        f.finish();
        Some(RawOutputContains::Of {
            tool: tool?,
            text: text?,
        })
    }
}
