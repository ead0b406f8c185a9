//! The values a `simulation:` section is written in: shares (`0.05` or `"5%"`), weights,
//! seeds, mappings keyed by name, messages and regexes (distributions are in
//! `distribution`). Each reads itself from a located node (`read`) and describes itself in
//! the JSON Schema.

use std::collections::HashMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::read::{FromNode, Located, Reader};
use super::tree::{Node, Value};

/// A share of the whole: a number from 0 to 1, or a percentage written `"5%"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Share(pub(crate) f64);

impl JsonSchema for Share {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Share".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A share: a number from 0 to 1, or a percentage such as `5%`.",
            "anyOf": [
                { "type": "number", "minimum": 0, "maximum": 1 },
                { "type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?%$" },
            ],
            "examples": ["5%", 0.05],
        })
    }
}

impl FromNode for Share {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let share = match &node.value {
            Value::String(text) => text.strip_suffix('%').and_then(|number| {
                let digits = !number.is_empty()
                    && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && !number.starts_with('.')
                    && !number.ends_with('.');
                digits
                    .then(|| number.parse::<f64>().ok())
                    .flatten()
                    .map(|percent| percent / 100.0)
            }),
            Value::Float(_) | Value::UInt(_) | Value::Int(_) => f64::read(node, r),
            _ => None,
        };
        match share {
            Some(share) if (0.0..=1.0).contains(&share) => Some(Share(share)),
            _ => {
                r.error(
                    node,
                    format!(
                        "`{}` must be a share: a number from 0 to 1, or a percentage from 0% to 100%",
                        r.field
                    ),
                    Some("write it like `0.05` or `5%`".to_owned()),
                );
                None
            }
        }
    }
}

/// A weight: a number more than zero (relative to its siblings').
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Weight(pub(crate) f64);

impl JsonSchema for Weight {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Weight".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A weight, relative to the others': a number more than zero.",
            "type": "number",
            "exclusiveMinimum": 0,
        })
    }
}

impl FromNode for Weight {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let weight = f64::read(node, r)?;
        if weight > 0.0 && weight.is_finite() {
            Some(Weight(weight))
        } else {
            r.error(node, format!("`{}` must be more than zero", r.field), None);
            None
        }
    }
}

/// A seed: any whole number from 0 to 2^64 - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub(crate) struct Seed(#[schemars(range(min = 0))] pub(crate) u64);

impl FromNode for Seed {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match node.value {
            Value::UInt(n) => Some(Seed(n)),
            Value::Int(_) => {
                r.error(node, format!("`{}` must not be negative", r.field), None);
                None
            }
            _ => {
                r.expected(node, "a whole number");
                None
            }
        }
    }
}

/// A regular expression, compiled (under a size limit) as it is read.
#[derive(Debug, Clone)]
pub(crate) struct RegexField(pub(crate) regex::Regex);

/// The most memory one compiled regex may take: far more than any condition needs, far less
/// than a hostile pattern would ask for.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl JsonSchema for RegexField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Regex".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "A regular expression (Rust `regex` syntax; `(?i)` ignores case).",
            "type": "string",
            "format": "regex",
        })
    }
}

impl FromNode for RegexField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let text = r.string(node)?;
        match regex::RegexBuilder::new(&text)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(regex) => Some(RegexField(regex)),
            Err(e) => {
                // The parser's message spans lines (the pattern, a caret, the error): its
                // last line says what is wrong.
                let message = e.to_string();
                let last = message.lines().last().unwrap_or_default();
                let what = last.strip_prefix("error: ").unwrap_or(last);
                let what = what.trim_end_matches('.');
                let mut chars = what.chars();
                let what: String = chars
                    .next()
                    .map(|c| c.to_ascii_lowercase())
                    .into_iter()
                    .chain(chars)
                    .collect();
                r.error(
                    node,
                    format!("`{}` is not a valid regex: {what}", r.field),
                    None,
                );
                None
            }
        }
    }
}

/// A mapping from names (written as keys, each once) to values.
#[derive(Debug)]
pub(crate) struct Named<T>(pub(crate) Vec<(Located<String>, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<T: JsonSchema> JsonSchema for Named<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Named_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let values = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": values,
        })
    }
}

impl<T: FromNode> FromNode for Named<T> {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            r.expected(node, "a mapping of names");
            return None;
        };
        let field = r.field;
        let mut firsts: HashMap<&str, &Node> = HashMap::with_capacity(entries.len());
        let mut named = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Value::String(name) = &key.value else {
                r.error(
                    key,
                    format!("keys must be strings, found {}", key.value.kind()),
                    None,
                );
                continue;
            };
            if let Some(first) = firsts.get(name.as_str()) {
                r.error(
                    key,
                    format!("`{name}` is given twice in `{field}`"),
                    Some(format!("the first is at line {}", first.at.line)),
                );
                continue;
            }
            firsts.insert(name, key);
            r.field = field;
            if let Some(value) = T::read(value, r) {
                named.push((
                    Located {
                        value: name.clone(),
                        at: r.place(key),
                    },
                    value,
                ));
            }
        }
        Some(Named(named))
    }
}

/// One message, or a list of them (at least one).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Messages(pub(crate) Vec<String>);

impl JsonSchema for Messages {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Messages".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "One message, or a list of messages.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } },
            ],
        })
    }
}

impl FromNode for Messages {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match &node.value {
            Value::Seq(_) => Vec::<String>::read(node, r).map(Messages),
            _ => r.string(node).map(|text| Messages(vec![text])),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A topology whose simulation has `section` (indented under `simulation:`).
    fn with_section(section: &str) -> String {
        format!(
            "entry: a\ntools:\n  - builtin: add\nagents:\n  - name: a\n    tools: [add]\n    scripted: [{{ text: hi }}]\nsimulation:\n{section}"
        )
    }

    /// Every problem loading it reports, one line each, without the file.
    fn problems(yaml: &str) -> Vec<String> {
        let lines: Vec<String> = match crate::topology::parse(yaml, Path::new("t.yaml")) {
            Ok(t) => t.warnings().iter().map(ToString::to_string).collect(),
            Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
        };
        lines
            .into_iter()
            .map(|line| line.trim_start_matches("t.yaml:").to_owned())
            .collect()
    }

    fn failure_rate(rate: &str) -> Result<f64, Vec<String>> {
        let yaml = with_section(&format!(
            "  tools:\n    add: {{ fail: {{ rate: {rate} }} }}\n"
        ));
        match crate::topology::parse(&yaml, Path::new("t.yaml")) {
            Ok(t) => Ok(t.simulation().unwrap().tools["add"].failure_rate),
            Err(_) => Err(problems(&yaml)),
        }
    }

    #[test]
    fn shares_are_numbers_from_0_to_1_or_percentages() {
        for (written, share) in [
            ("5%", 0.05),
            ("\"12.5%\"", 0.125),
            ("100%", 1.0),
            ("0%", 0.0),
            ("0.25", 0.25),
            ("1", 1.0),
            ("0", 0.0),
        ] {
            assert_eq!(failure_rate(written), Ok(share), "{written}");
        }
        for written in [
            "5", "1.5", "-1%", "101%", "1e2%", ".5%", "5.%", "\"%\"", "half",
        ] {
            assert_eq!(
                failure_rate(written),
                Err(vec![
                    "10:26: `rate` must be a share: a number from 0 to 1, or a percentage from 0% to 100% (write it like `0.05` or `5%`)".to_owned()
                ]),
                "{written}"
            );
        }
    }

    #[test]
    fn weights_must_be_more_than_zero_and_seeds_not_negative() {
        let yaml = with_section(
            "  seed: 18446744073709551615\n  personas:\n    - { name: p, says: hi, weight: 0.5 }\n",
        );
        let topology = crate::topology::parse(&yaml, Path::new("t.yaml")).unwrap();
        let spec = topology.simulation().unwrap();
        assert_eq!(spec.seed, Some(u64::MAX));
        assert_eq!(spec.personas[0].weight, 0.5);
        let yaml = with_section(
            "  seed: 1.5\n  personas:\n    - { name: p, says: hi, weight: 0 }\n    - { name: q, says: hi, weight: -1 }\n",
        );
        assert_eq!(
            problems(&yaml),
            [
                "9:9: `seed` must be a whole number, found a decimal number",
                "11:36: `weight` must be more than zero",
                "12:36: `weight` must be more than zero",
            ]
        );
    }

    #[test]
    fn a_name_given_twice_in_a_mapping_of_names_is_reported_at_the_second() {
        let yaml = with_section("  tools:\n    add: { output: a }\n    add: { output: b }\n");
        assert_eq!(
            problems(&yaml),
            ["11:5: `add` is given twice in `tools` (the first is at line 10)"]
        );
    }

    #[test]
    fn a_regex_too_large_to_compile_is_an_error_not_a_hang() {
        let yaml = with_section(
            "  agents:\n    a:\n      - when: { input_matches: \"(a{1000}){1000}\" }\n        text: hi\n",
        );
        let found = problems(&yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                == "11:32: `input_matches` is not a valid regex: compiled regex exceeds size limit of 1048576 bytes",
            "{found:?}"
        );
    }

    #[test]
    fn says_and_replies_take_one_message_or_a_list() {
        let yaml = with_section(
            "  personas:\n    - { name: p, says: hi, replies: thanks }\n    - { name: q, says: [a, b], replies: [c, d] }\n",
        );
        let topology = crate::topology::parse(&yaml, Path::new("t.yaml")).unwrap();
        let personas = &topology.simulation().unwrap().personas;
        assert_eq!(
            (&personas[0].openings, &personas[0].replies),
            (&vec!["hi".to_owned()], &vec!["thanks".to_owned()])
        );
        assert_eq!(personas[1].openings, ["a", "b"]);
        assert_eq!(personas[1].replies, ["c", "d"]);
    }
}
