//! The history check the OpenAI API applies to every request, done locally.
//!
//! The API rejects an `input` where a `function_call` has no `function_call_output`, or an output
//! has no call before it. The [`ScriptedModel`](super::ScriptedModel) runs this check on every
//! request, so a turn-loop bug that would break the real API fails tests offline.

use std::collections::HashMap;

use crate::item::Item;

/// A history the API would reject, naming the call id at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// A `function_call` with no `function_call_output` (the API's wording).
    #[error("No tool output found for function call {call_id}.")]
    MissingOutput {
        /// The unanswered call.
        call_id: String,
    },
    /// A `function_call_output` with no `function_call` before it (the API's wording).
    #[error("No tool call found for function call output with call_id {call_id}.")]
    MissingCall {
        /// The orphan output's call id.
        call_id: String,
    },
    /// Two function calls with the same call id.
    #[error("Duplicate function call with call_id {call_id}.")]
    DuplicateCall {
        /// The repeated call id.
        call_id: String,
    },
    /// Two outputs for the same call.
    #[error("Duplicate function call output with call_id {call_id}.")]
    DuplicateOutput {
        /// The repeated call id.
        call_id: String,
    },
}

/// Checks that every `function_call` in `items` has exactly one `function_call_output` after it,
/// and every output answers an earlier call.
///
/// # Errors
///
/// Returns the first problem found, in item order.
///
/// # Examples
///
/// ```
/// use baton::{Item, model::check_history};
///
/// let ok = [Item::function_call("c1", "add", "{}"), Item::function_call_output("c1", "3")];
/// assert!(check_history(&ok).is_ok());
///
/// let unanswered = [Item::function_call("c1", "add", "{}")];
/// assert_eq!(
///     check_history(&unanswered).unwrap_err().to_string(),
///     "No tool output found for function call c1."
/// );
/// ```
pub fn check_history(items: &[Item]) -> Result<(), HistoryError> {
    if items.len() <= SMALL {
        return check_small(items);
    }
    // call id -> answered yet?
    let mut calls: HashMap<&str, bool> = HashMap::new();
    for item in items {
        match item {
            Item::FunctionCall { call_id, .. } => {
                if calls.insert(call_id, false).is_some() {
                    return Err(HistoryError::DuplicateCall {
                        call_id: call_id.clone(),
                    });
                }
            }
            Item::FunctionCallOutput { call_id, .. } => match calls.get_mut(call_id.as_str()) {
                None => {
                    return Err(HistoryError::MissingCall {
                        call_id: call_id.clone(),
                    });
                }
                Some(answered @ false) => *answered = true,
                Some(true) => {
                    return Err(HistoryError::DuplicateOutput {
                        call_id: call_id.clone(),
                    });
                }
            },
            Item::Message { .. } | Item::Reasoning { .. } => {}
        }
    }
    // Report the first unanswered call in item order, so the message is deterministic.
    for item in items {
        if let Item::FunctionCall { call_id, .. } = item
            && calls.get(call_id.as_str()) == Some(&false)
        {
            return Err(HistoryError::MissingOutput {
                call_id: call_id.clone(),
            });
        }
    }
    Ok(())
}

/// Histories up to this many items are checked by scanning, without allocating.
const SMALL: usize = 64;

/// The same check as [`check_history`] by pairwise scans: quadratic, but cheaper than a map for
/// the short histories of most requests.
fn check_small(items: &[Item]) -> Result<(), HistoryError> {
    let is_call =
        |item: &Item, id: &str| matches!(item, Item::FunctionCall { call_id, .. } if call_id == id);
    let is_output = |item: &Item, id: &str| matches!(item, Item::FunctionCallOutput { call_id, .. } if call_id == id);
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::FunctionCall { call_id, .. } => {
                if items[..i].iter().any(|earlier| is_call(earlier, call_id)) {
                    return Err(HistoryError::DuplicateCall {
                        call_id: call_id.clone(),
                    });
                }
            }
            Item::FunctionCallOutput { call_id, .. } => {
                let earlier = &items[..i];
                if !earlier.iter().any(|e| is_call(e, call_id)) {
                    return Err(HistoryError::MissingCall {
                        call_id: call_id.clone(),
                    });
                }
                if earlier.iter().any(|e| is_output(e, call_id)) {
                    return Err(HistoryError::DuplicateOutput {
                        call_id: call_id.clone(),
                    });
                }
            }
            Item::Message { .. } | Item::Reasoning { .. } => {}
        }
    }
    for (i, item) in items.iter().enumerate() {
        if let Item::FunctionCall { call_id, .. } = item
            && !items[i + 1..].iter().any(|later| is_output(later, call_id))
        {
            return Err(HistoryError::MissingOutput {
                call_id: call_id.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_before_its_call_is_rejected() {
        let items = [
            Item::function_call_output("c1", "x"),
            Item::function_call("c1", "f", "{}"),
        ];
        assert_eq!(
            check_history(&items),
            Err(HistoryError::MissingCall {
                call_id: "c1".into()
            })
        );
    }

    #[test]
    fn first_unanswered_call_is_named() {
        let items = [
            Item::function_call("a", "f", "{}"),
            Item::function_call("b", "f", "{}"),
            Item::function_call_output("a", "x"),
        ];
        assert_eq!(
            check_history(&items),
            Err(HistoryError::MissingOutput {
                call_id: "b".into()
            })
        );
    }

    #[test]
    fn long_and_short_histories_get_the_same_verdicts() {
        // Build histories past SMALL and check both paths agree on each failure kind.
        let mut long: Vec<Item> = (0..40)
            .flat_map(|i| {
                [
                    Item::function_call(format!("c{i}"), "f", "{}"),
                    Item::function_call_output(format!("c{i}"), "x"),
                ]
            })
            .collect();
        assert!(long.len() > SMALL);
        assert_eq!(check_history(&long), Ok(()));
        assert_eq!(check_small(&long), Ok(()));
        long.push(Item::function_call("late", "f", "{}"));
        let expected = Err(HistoryError::MissingOutput {
            call_id: "late".into(),
        });
        assert_eq!(check_history(&long), expected);
        assert_eq!(check_small(&long), expected);
        long.push(Item::function_call_output("c3", "again"));
        let expected = Err(HistoryError::DuplicateOutput {
            call_id: "c3".into(),
        });
        assert_eq!(check_history(&long), expected);
        assert_eq!(check_small(&long), expected);
    }

    #[test]
    fn duplicates_are_rejected() {
        let calls = [
            Item::function_call("a", "f", "{}"),
            Item::function_call("a", "f", "{}"),
        ];
        assert!(matches!(
            check_history(&calls),
            Err(HistoryError::DuplicateCall { .. })
        ));
        let outputs = [
            Item::function_call("a", "f", "{}"),
            Item::function_call_output("a", "x"),
            Item::function_call_output("a", "y"),
        ];
        assert!(matches!(
            check_history(&outputs),
            Err(HistoryError::DuplicateOutput { .. })
        ));
    }
}
