//! Templates of a command tool's argv elements and stdin: text with `{name}` placeholders
//! filled from the call's arguments (`{{` and `}}` are literal braces).
//!
//! A template is parsed once, when the tool is built, and rendered for every call. Rendering
//! never goes through a shell: each argv element stays one argument, whatever its value holds.

use serde_json::{Map, Value};

use crate::tool::template::{self, Piece};

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    /// The template as written, for messages and `Debug`.
    source: String,
    /// Its pieces, in order (no `{env:...}`: commands read no secrets into their arguments).
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `source`; the error says what is wrong and at which byte.
    pub(super) fn parse(source: &str) -> Result<Template, String> {
        let parsed = template::Template::parse(source)?;
        if let Some(Piece::Env(var)) = parsed.pieces().iter().find(|p| matches!(p, Piece::Env(_))) {
            return Err(format!(
                "`{{env:{var}}}` in `{source}`: a command gets variables through `env` or `set_env`, not in its arguments"
            ));
        }
        Ok(Template {
            source: source.to_owned(),
            pieces: parsed.pieces().to_vec(),
        })
    }

    /// The template as written.
    pub(super) fn source(&self) -> &str {
        &self.source
    }

    /// The argument names it uses, in order (repeats included).
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Arg(name) => Some(name.as_str()),
            Piece::Text(_) | Piece::Env(_) => None,
        })
    }

    /// The argument name if the template is exactly one placeholder (`{files}`).
    fn whole(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Arg(name)] => Some(name),
            _ => None,
        }
    }

    /// The argv elements this template gives for `args`, appended to `out`.
    ///
    /// A template that is exactly `{name}` gives nothing when `name` is absent (or null) and
    /// one element per item when its value is an array. Any other template gives one element,
    /// or nothing when an argument it names is absent (so `--limit={n}` disappears with `n`).
    pub(super) fn render_argv(&self, args: &Map<String, Value>, out: &mut Vec<String>) {
        if let Some(name) = self.whole() {
            match present(args, name) {
                None => {}
                Some(Value::Array(items)) => {
                    out.extend(items.iter().filter(|v| !v.is_null()).map(value_text));
                }
                Some(value) => out.push(value_text(value)),
            }
            return;
        }
        let mut element = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => element.push_str(text),
                Piece::Arg(name) => match present(args, name) {
                    Some(value) => element.push_str(&value_text(value)),
                    None => return,
                },
                Piece::Env(_) => {} // refused by `parse`
            }
        }
        out.push(element);
    }

    /// The text this template gives for `args`, an absent argument giving nothing (stdin).
    pub(super) fn render_text(&self, args: &Map<String, Value>) -> String {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Arg(name) => {
                    if let Some(value) = present(args, name) {
                        text.push_str(&value_text(value));
                    }
                }
                Piece::Env(_) => {} // refused by `parse`
            }
        }
        text
    }
}

/// The argument `name`, unless it is absent or null.
fn present<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    args.get(name).filter(|value| !value.is_null())
}

/// A value as command-line text: a string as it is, anything else as compact JSON
/// (`42`, `true`, `{"a":1}`).
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn argv(templates: &[&str], value: Value) -> Vec<String> {
        let args = args(value);
        let mut out = Vec::new();
        for source in templates {
            Template::parse(source)
                .expect("the template parses")
                .render_argv(&args, &mut out);
        }
        out
    }

    #[test]
    fn a_value_full_of_shell_syntax_stays_one_argument() {
        let nasty = "; rm -rf /tmp/x $(touch m) `id` | cat && echo";
        assert_eq!(
            argv(&["-n", "{pattern}"], json!({ "pattern": nasty })),
            ["-n", nasty]
        );
    }

    #[test]
    fn an_absent_or_null_whole_placeholder_is_dropped() {
        assert_eq!(argv(&["a", "{x}", "b"], json!({})), ["a", "b"]);
        assert_eq!(argv(&["a", "{x}", "b"], json!({ "x": null })), ["a", "b"]);
    }

    #[test]
    fn an_element_naming_an_absent_argument_is_dropped_whole() {
        assert_eq!(argv(&["--limit={n}", "--all"], json!({})), ["--all"]);
        assert_eq!(argv(&["--limit={n}"], json!({ "n": 5 })), ["--limit=5"]);
    }

    #[test]
    fn an_array_in_a_whole_placeholder_gives_one_argument_per_item() {
        assert_eq!(
            argv(
                &["{files}"],
                json!({ "files": ["a b", 3, null, {"k": true}] })
            ),
            ["a b", "3", r#"{"k":true}"#]
        );
        assert_eq!(argv(&["x", "{files}"], json!({ "files": [] })), ["x"]);
    }

    #[test]
    fn an_array_inside_text_is_compact_json() {
        assert_eq!(
            argv(&["--ids={ids}"], json!({ "ids": [1, 2] })),
            ["--ids=[1,2]"]
        );
    }

    #[test]
    fn numbers_booleans_and_objects_are_json_text() {
        assert_eq!(
            argv(
                &["{n}", "{f}", "{b}", "{o}"],
                json!({ "n": 42, "f": 1.5, "b": false, "o": {"a": [1]} })
            ),
            ["42", "1.5", "false", r#"{"a":[1]}"#]
        );
    }

    #[test]
    fn doubled_braces_are_literal_braces() {
        assert_eq!(
            argv(&["{{x}} is {x}", "}}{{"], json!({ "x": "y" })),
            ["{x} is y", "}{"]
        );
        let plain = Template::parse("{{only}}").expect("parses");
        assert_eq!(plain.names().count(), 0);
    }

    #[test]
    fn placeholders_are_named_in_order() {
        let template = Template::parse("{a}-{b}/{a}").expect("parses");
        assert_eq!(template.names().collect::<Vec<_>>(), ["a", "b", "a"]);
        assert_eq!(template.source(), "{a}-{b}/{a}");
    }

    #[test]
    fn unbalanced_or_empty_braces_are_errors_that_say_where() {
        let open = Template::parse("ab{file").expect_err("an open brace");
        assert!(open.contains("unbalanced `{` at byte 2"), "{open}");
        let close = Template::parse("a}b").expect_err("a lone close brace");
        assert!(close.contains("unbalanced `}` at byte 1"), "{close}");
        let nested = Template::parse("{a{b}}").expect_err("a nested brace");
        assert!(nested.contains("unbalanced `{` at byte 0"), "{nested}");
        let empty = Template::parse("x{}").expect_err("an empty placeholder");
        assert!(empty.contains("empty placeholder"), "{empty}");
    }

    #[test]
    fn stdin_text_fills_absent_arguments_with_nothing() {
        let template = Template::parse("{greeting}, {name}!\n").expect("parses");
        assert_eq!(
            template.render_text(&args(json!({ "name": "Ada", "greeting": "Hi" }))),
            "Hi, Ada!\n"
        );
        assert_eq!(
            template.render_text(&args(json!({ "name": "Ada" }))),
            ", Ada!\n"
        );
    }
}
