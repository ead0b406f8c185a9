//! What differs between a request and a recorded exchange, in words: the message a
//! [`Replay`](super::Replay) gives when no recorded exchange matches.
//!
//! Pure functions over the three things a replay compares: the instructions, the tools and
//! the input items.

use super::Exchange;
use crate::item::Item;
use crate::model::{FunctionTool, ModelRequest};

/// Characters of context shown on each side of the first difference.
const CONTEXT: usize = 24;

/// Whether `exchange` recorded exactly `request`'s instructions, tools and input.
pub(super) fn matches(exchange: &Exchange, request: &ModelRequest<'_>) -> bool {
    exchange.instructions == request.instructions
        && exchange.tools == request.tools
        && exchange.input == request.input
}

/// How close `exchange` is to `request`: the parts that are equal, then how many input
/// items agree from the start. The larger, the closer.
pub(super) fn closeness(exchange: &Exchange, request: &ModelRequest<'_>) -> (usize, usize) {
    let equal = usize::from(exchange.instructions == request.instructions)
        + usize::from(exchange.tools == request.tools)
        + usize::from(exchange.input == request.input);
    let prefix = exchange
        .input
        .iter()
        .zip(request.input)
        .take_while(|(a, b)| a == b)
        .count();
    (equal, prefix)
}

/// Every difference between `exchange` and `request`, joined by `; `.
pub(super) fn describe(exchange: &Exchange, request: &ModelRequest<'_>) -> String {
    let parts: Vec<String> = [
        instructions(&exchange.instructions, request.instructions),
        tools(&exchange.tools, request.tools),
        input(&exchange.input, request.input),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "it differs only in what a replay does not compare".to_owned()
    } else {
        parts.join("; ")
    }
}

/// `instructions differ at character N: recorded "…", now "…"`, or `None` when equal.
pub(super) fn instructions(recorded: &str, now: &str) -> Option<String> {
    if recorded == now {
        return None;
    }
    let at = recorded
        .chars()
        .zip(now.chars())
        .take_while(|(a, b)| a == b)
        .count();
    Some(format!(
        "instructions differ at character {}: recorded {:?}, now {:?}",
        at + 1,
        excerpt(recorded, at),
        excerpt(now, at)
    ))
}

/// Up to [`CONTEXT`] characters either side of character `at`, with `…` where it is cut.
fn excerpt(text: &str, at: usize) -> String {
    let start = at.saturating_sub(CONTEXT);
    let chars: Vec<char> = text.chars().collect();
    let end = (at + CONTEXT).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start.min(chars.len())..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// `tools differ: added `x`; removed `y`; changed `z``, or `None` when equal.
pub(super) fn tools(recorded: &[FunctionTool], now: &[FunctionTool]) -> Option<String> {
    if recorded == now {
        return None;
    }
    let find = |list: &'_ [FunctionTool], name: &str| list.iter().position(|t| t.name == name);
    let names = |tools: Vec<&FunctionTool>| {
        tools
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let added: Vec<&FunctionTool> = now
        .iter()
        .filter(|t| find(recorded, &t.name).is_none())
        .collect();
    let removed: Vec<&FunctionTool> = recorded
        .iter()
        .filter(|t| find(now, &t.name).is_none())
        .collect();
    let mut changed = Vec::new();
    for tool in now {
        if let Some(old) = find(recorded, &tool.name).map(|i| &recorded[i]) {
            if old.description != tool.description {
                changed.push(format!("`{}` (description)", tool.name));
            } else if old.parameters != tool.parameters {
                changed.push(format!("`{}` (parameters)", tool.name));
            }
        }
    }
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("added {}", names(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", names(removed)));
    }
    if !changed.is_empty() {
        parts.push(format!("changed {}", changed.join(", ")));
    }
    if parts.is_empty() {
        parts.push(format!(
            "same tools in another order: recorded {}, now {}",
            names(recorded.iter().collect()),
            names(now.iter().collect())
        ));
    }
    Some(format!("tools differ: {}", parts.join("; ")))
}

/// `input differs at item N: recorded …, now …` (1-based), or where one input ends before
/// the other; `None` when equal.
pub(super) fn input(recorded: &[Item], now: &[Item]) -> Option<String> {
    if recorded == now {
        return None;
    }
    let at = recorded.iter().zip(now).take_while(|(a, b)| a == b).count();
    Some(match (recorded.get(at), now.get(at)) {
        (Some(old), Some(new)) => format!(
            "input differs at item {}: recorded {}, now {}",
            at + 1,
            summary(old),
            summary(new)
        ),
        (Some(old), None) => format!(
            "input has {} items where the recording has {} (item {} was {})",
            now.len(),
            recorded.len(),
            at + 1,
            summary(old)
        ),
        (None, Some(new)) => format!(
            "input has {} items where the recording has {} (item {} is {})",
            now.len(),
            recorded.len(),
            at + 1,
            summary(new)
        ),
        // Unequal lists always differ somewhere within the longer one.
        (None, None) => "input differs".to_owned(),
    })
}

/// One item in a few words: `user message "…"`, `call `sum` add({"a":1})`, ...
fn summary(item: &Item) -> String {
    match item {
        Item::Message { role, content, .. } => {
            format!("{} message {:?}", role.as_str(), short(content))
        }
        Item::FunctionCall {
            call_id,
            name,
            arguments,
            ..
        } => format!("call `{call_id}` {name}({})", short(arguments)),
        Item::FunctionCallOutput {
            call_id, output, ..
        } => format!("output of `{call_id}` {:?}", short(output)),
        Item::Reasoning { .. } => "a reasoning item".to_owned(),
    }
}

/// The first 40 characters of `text`, with `…` when cut.
fn short(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, description: &str) -> FunctionTool {
        FunctionTool {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: json!({"type": "object"}),
        }
    }

    #[test]
    fn changed_instructions_are_shown_around_their_first_difference() {
        let recorded = "You are the front desk. For any question that needs arithmetic, hand the conversation to the calculator.";
        let now = "You are the front desk. For any question that needs arithmetic, pass the conversation to the calculator.";
        assert_eq!(
            instructions(recorded, now).unwrap(),
            "instructions differ at character 65: recorded \"… that needs arithmetic, hand the conversation to…\", now \"… that needs arithmetic, pass the conversation to…\""
        );
        assert_eq!(instructions("same", "same"), None);
        assert_eq!(
            instructions("Be brief.", "Be brief.\nAlways.").unwrap(),
            "instructions differ at character 10: recorded \"Be brief.\", now \"Be brief.\\nAlways.\""
        );
    }

    #[test]
    fn changed_tools_are_named_as_added_removed_or_changed() {
        let recorded = [
            tool("add", "Adds."),
            tool("sqrt", "Roots."),
            tool("pow", "Powers."),
        ];
        let now = [
            tool("add", "Adds two numbers."),
            tool("sqrt", "Roots."),
            tool("multiply", "Multiplies."),
        ];
        assert_eq!(
            tools(&recorded, &now).unwrap(),
            "tools differ: added `multiply`; removed `pow`; changed `add` (description)"
        );
        let mut params = tool("sqrt", "Roots.");
        params.parameters = json!({"type": "object", "required": ["x"]});
        assert_eq!(
            tools(&recorded[1..2], &[params]).unwrap(),
            "tools differ: changed `sqrt` (parameters)"
        );
        assert_eq!(
            tools(&recorded[..2], &[recorded[1].clone(), recorded[0].clone()]).unwrap(),
            "tools differ: same tools in another order: recorded `add`, `sqrt`, now `sqrt`, `add`"
        );
        assert_eq!(tools(&recorded, &recorded), None);
    }

    #[test]
    fn changed_input_names_the_first_item_that_differs() {
        let recorded = [
            Item::user("What is 12 + 30?"),
            Item::function_call("sum", "add", r#"{"a":12,"b":30}"#),
            Item::function_call_output("sum", "42"),
        ];
        let mut now = recorded.to_vec();
        now[2] = Item::function_call_output("sum", "43");
        assert_eq!(
            input(&recorded, &now).unwrap(),
            "input differs at item 3: recorded output of `sum` \"42\", now output of `sum` \"43\""
        );
        assert_eq!(
            input(&recorded, &recorded[..1]).unwrap(),
            "input has 1 items where the recording has 3 (item 2 was call `sum` add({\"a\":12,\"b\":30}))"
        );
        let longer = [recorded.to_vec(), vec![Item::user("and 2 + 2?")]].concat();
        assert_eq!(
            input(&recorded, &longer).unwrap(),
            "input has 4 items where the recording has 3 (item 4 is user message \"and 2 + 2?\")"
        );
        let long = Item::user("x".repeat(100));
        assert_eq!(
            input(&recorded[..1], &[long]).unwrap(),
            format!(
                "input differs at item 1: recorded user message \"What is 12 + 30?\", now user message \"{}…\"",
                "x".repeat(40)
            )
        );
    }
}
