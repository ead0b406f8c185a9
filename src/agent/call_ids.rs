//! Unique call ids: every `function_call` in a transcript gets an id no other call has.
//!
//! Real servers break the API's rules: some send no `call_id`, an empty one, the same id twice
//! in one turn, or ids that repeat across turns (`call_0` every time) or across the user turns
//! of a continued conversation. The turn loop runs [`make_unique`] on each model output before
//! it enters the conversation, so the invariant of DESIGN point 5 (every call has exactly one
//! output, paired by id) holds whatever the model wrote.
//!
//! A usable provider id is kept as it is. An empty one becomes `call_<turn>_<k>`; a repeated
//! one becomes `<id>__<n>`, the first free `n` from 2. Because Baton sends the whole history on
//! every request, the server sees the new ids in both the call and its output and needs nothing
//! mapped back; the provider's item id (`fc_...`) stays on the item, unless it too repeats an
//! earlier item's (then it is dropped, since the Responses API refuses duplicate item ids).

use std::collections::HashSet;

use crate::item::{Item, unique_call_id};

/// Histories up to this many items are searched by scanning instead of building a set.
const SMALL: usize = 64;

/// Gives every function call among `items[first..]` an id unused by any earlier item, keeping
/// the ids that already are. `turn` (the run's 1-based model turn) names fresh ids.
///
/// Returns how many ids were changed.
pub(crate) fn make_unique(items: &mut [Item], first: usize, turn: u32) -> usize {
    let needs_fix = |items: &[Item]| {
        items[first..].iter().enumerate().any(|(offset, item)| {
            let Item::FunctionCall { call_id, id, .. } = item else {
                return false;
            };
            let earlier = &items[..first + offset];
            call_id.is_empty()
                || earlier.iter().any(|e| e.call_id() == Some(call_id))
                || id
                    .as_deref()
                    .is_some_and(|id| earlier.iter().any(|e| e.id() == Some(id)))
        })
    };
    if items.len() <= SMALL && !needs_fix(items) {
        return 0; // the common case: nothing to change, nothing allocated
    }
    let mut used: HashSet<String> = items[..first]
        .iter()
        .filter_map(|item| item.call_id().map(str::to_owned))
        .collect();
    let mut item_ids: HashSet<String> = items[..first]
        .iter()
        .filter_map(|item| item.id().map(str::to_owned))
        .collect();
    let mut changed = 0;
    for (k, item) in items[first..].iter_mut().enumerate() {
        let Item::FunctionCall { call_id, id, .. } = item else {
            if let Some(id) = item.id() {
                item_ids.insert(id.to_owned());
            }
            continue;
        };
        if call_id.is_empty() || used.contains(call_id.as_str()) {
            let base = if call_id.is_empty() {
                format!("call_{turn}_{}", k + 1)
            } else {
                call_id.clone()
            };
            *call_id = unique_call_id(&base, |c| used.contains(c));
            changed += 1;
        }
        used.insert(call_id.clone());
        if let Some(item_id) = id {
            if item_ids.contains(item_id.as_str()) {
                *id = None;
            } else {
                item_ids.insert(item_id.clone());
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::check_history;

    fn ids(items: &[Item]) -> Vec<&str> {
        items.iter().filter_map(Item::call_id).collect()
    }

    #[test]
    fn usable_ids_are_kept() {
        let mut items = vec![
            Item::user("q"),
            Item::function_call("a", "f", "{}"),
            Item::function_call("b", "f", "{}"),
        ];
        assert_eq!(make_unique(&mut items, 1, 1), 0);
        assert_eq!(ids(&items), ["a", "b"]);
    }

    #[test]
    fn empty_repeated_and_reused_ids_are_replaced() {
        let mut items = vec![
            Item::user("q"),
            Item::function_call("call_0", "f", "{}"),
            Item::function_call_output("call_0", "x"),
            // The next turn: the server reuses call_0, repeats it, and sends an empty id.
            Item::function_call("call_0", "f", "{}"),
            Item::function_call("call_0", "f", "{}"),
            Item::function_call("", "f", "{}"),
        ];
        assert_eq!(make_unique(&mut items, 3, 2), 3);
        assert_eq!(
            ids(&items),
            ["call_0", "call_0", "call_0__2", "call_0__3", "call_2_3"]
        );
    }

    #[test]
    fn a_fresh_id_never_collides_with_a_provider_id() {
        let mut items = vec![
            Item::function_call("call_1_2", "f", "{}"),
            Item::function_call_output("call_1_2", "x"),
            Item::function_call("", "f", "{}"),
            Item::function_call("", "f", "{}"),
        ];
        make_unique(&mut items, 2, 1);
        assert_eq!(
            ids(&items),
            ["call_1_2", "call_1_2", "call_1_1", "call_1_2__2"]
        );
    }

    #[test]
    fn repeated_item_ids_are_dropped() {
        let mut items = vec![
            Item::function_call("a", "f", "{}").with_id("fc_1"),
            Item::function_call_output("a", "x"),
            Item::function_call("b", "f", "{}").with_id("fc_1"),
        ];
        make_unique(&mut items, 2, 2);
        assert_eq!(items[2].id(), None);
        assert_eq!(items[0].id(), Some("fc_1"));
    }

    #[test]
    fn long_histories_take_the_same_path() {
        let mut items: Vec<Item> = (0..50)
            .flat_map(|i| {
                [
                    Item::function_call(format!("c{i}"), "f", "{}"),
                    Item::function_call_output(format!("c{i}"), "x"),
                ]
            })
            .collect();
        let first = items.len();
        items.push(Item::function_call("c7", "f", "{}"));
        items.push(Item::function_call("new", "f", "{}"));
        assert_eq!(make_unique(&mut items, first, 51), 1);
        items.push(Item::function_call_output("c7__2", "y"));
        items.push(Item::function_call_output("new", "y"));
        assert_eq!(check_history(&items), Ok(()));
    }
}
