//! Reading a located YAML tree into the raw types, reporting every problem instead of
//! stopping at the first.
//!
//! [`FromNode`] reads one value; a value with a problem is reported and left out, and reading
//! goes on, so one pass finds every wrong type, missing field, unknown field (with a "did you
//! mean") and repeated key in the file. [`Fields`] reads a mapping: the fields a type asks
//! for are the fields it knows, and whatever is left over is unknown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;

use super::diagnostic::{Place, Problems};
use super::env::{self, Env, EnvError};
use super::tree::{Node, Value};

/// The longest duration a topology may set: longer ones are surely mistakes, and timers
/// past the end of time would overflow.
pub(super) const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A value from a topology file, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) at: Place,
}

/// In the JSON Schema a located value is just the value.
impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// Reads the nodes of one file.
pub(super) struct Reader<'a> {
    /// The file being read.
    pub(super) file: Arc<Path>,
    /// Where `${VAR}` values come from.
    env: Env<'a>,
    /// Where problems go.
    pub(super) problems: &'a mut Problems,
    /// The field being read, for messages (`` `tools` must be a list ``).
    pub(super) field: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(file: Arc<Path>, env: Env<'a>, problems: &'a mut Problems) -> Self {
        Reader {
            file,
            env,
            problems,
            field: "",
        }
    }

    /// The environment the topology's `${VAR}` values come from (`Env::secret`).
    pub(super) fn env(&self) -> Env<'a> {
        self.env
    }

    /// Where `node` is.
    pub(super) fn place(&self, node: &Node) -> Place {
        node.at.place(&self.file)
    }

    /// Reports an error at `node`.
    pub(super) fn error(&mut self, node: &Node, message: impl Into<String>, hint: Option<String>) {
        let at = self.place(node);
        self.problems.error(&at, message, hint);
    }

    /// Reports that `node` is not what the current field needs.
    pub(super) fn expected(&mut self, node: &Node, what: &str) {
        let found = node.value.kind();
        let message = if self.field.is_empty() {
            format!("expected {what}, found {found}")
        } else {
            format!("`{}` must be {what}, found {found}", self.field)
        };
        let hint = match &node.value {
            Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) if what == STRING => {
                Some("put it in quotes to make it a string".to_owned())
            }
            _ => None,
        };
        self.error(node, message, hint);
    }

    /// Reads a string, with `${VAR}` references replaced.
    pub(super) fn string(&mut self, node: &Node) -> Option<String> {
        let Value::String(text) = &node.value else {
            self.expected(node, STRING);
            return None;
        };
        self.interpolate(node, text)
    }

    fn interpolate(&mut self, node: &Node, text: &str) -> Option<String> {
        match env::interpolate(text, self.env) {
            Ok(text) => Some(text.into_owned()),
            Err(EnvError::Unset(name)) => {
                self.error(
                    node,
                    format!("environment variable `{name}` is not set"),
                    Some(format!("set it, or give a default: `${{{name}:-default}}`")),
                );
                None
            }
            Err(EnvError::Key(name)) => {
                self.error(
                    node,
                    format!("`${{{name}}}` would copy an API key into the topology"),
                    Some(format!(
                        "`{name}` holds a model's key, which only the HTTP client reads; keys are never interpolated"
                    )),
                );
                None
            }
            Err(EnvError::Malformed(text)) => {
                self.error(
                    node,
                    format!("`{text}` is not a variable reference"),
                    Some(
                        "write `${NAME}` or `${NAME:-default}`, or `$${` for a literal `${`"
                            .to_owned(),
                    ),
                );
                None
            }
        }
    }

    /// Reads a whole number in `min..=max`.
    fn number(&mut self, node: &Node, min: u32, max: u32) -> Option<u32> {
        let n = match node.value {
            Value::UInt(n) => n,
            Value::Int(_) => {
                self.error(node, format!("`{}` must not be negative", self.field), None);
                return None;
            }
            _ => {
                self.expected(node, "a whole number");
                return None;
            }
        };
        match u32::try_from(n) {
            Ok(n) if n < min => {
                self.error(
                    node,
                    format!("`{}` must be at least {min}", self.field),
                    None,
                );
                None
            }
            Ok(n) if n <= max => Some(n),
            _ => {
                self.error(
                    node,
                    format!("`{}` must be at most {max}", self.field),
                    None,
                );
                None
            }
        }
    }

    /// Reads one of `names`, with a "did you mean" for near misses.
    pub(super) fn choice(&mut self, node: &Node, names: &[&str]) -> Option<usize> {
        let Value::String(text) = &node.value else {
            self.expected(node, &format!("one of {}", names.join(", ")));
            return None;
        };
        if let Some(i) = names.iter().position(|n| n == text) {
            return Some(i);
        }
        let hint = self
            .problems
            .did_you_mean(text, names.iter().copied())
            .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
        self.error(
            node,
            format!("`{}` cannot be `{text}`", self.field),
            Some(hint),
        );
        None
    }
}

const STRING: &str = "a string";

/// A value that can be read from a node. On a problem it reports it and returns `None`.
pub(super) trait FromNode: Sized {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self>;
}

impl FromNode for String {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        r.string(node)
    }
}

impl FromNode for bool {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                r.expected(node, "true or false");
                None
            }
        }
    }
}

impl FromNode for f64 {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match node.value {
            Value::Float(x) => Some(x),
            #[expect(clippy::cast_precision_loss, reason = "settings are small numbers")]
            Value::UInt(n) => Some(n as f64),
            #[expect(clippy::cast_precision_loss, reason = "settings are small numbers")]
            Value::Int(n) => Some(n as f64),
            _ => {
                r.expected(node, "a number");
                None
            }
        }
    }
}

/// A count: a whole number from 1 to 1,000,000 (`0` would stop everything, and larger
/// values are surely mistakes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub(crate) struct Count(#[schemars(range(min = 1, max = 1_000_000))] pub(crate) u32);

impl FromNode for Count {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        r.number(node, 1, 1_000_000).map(Count)
    }
}

/// A small count that may be zero (retries): 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub(crate) struct Retries(#[schemars(range(max = 100))] pub(crate) u32);

impl FromNode for Retries {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        r.number(node, 0, 100).map(Retries)
    }
}

/// A whole number of tokens, up to `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub(crate) struct Tokens(#[schemars(range(min = 1))] pub(crate) u32);

impl FromNode for Tokens {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        r.number(node, 1, u32::MAX).map(Tokens)
    }
}

/// A duration written like `30s`, `500ms` or `1m 30s`: more than zero, at most a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dur(pub(crate) Duration);

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration such as `30s`, `500ms` or `1m 30s` (more than zero, at most 24h).",
            "examples": ["30s", "500ms", "2m"],
        })
    }
}

impl FromNode for Dur {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        const HINT: &str = "write it like `30s`, `500ms` or `2m`";
        if matches!(node.value, Value::UInt(_) | Value::Int(_) | Value::Float(_)) {
            r.error(
                node,
                format!("`{}` needs a unit", r.field),
                Some(HINT.to_owned()),
            );
            return None;
        }
        let text = r.string(node)?;
        match humantime::parse_duration(text.trim()) {
            Ok(d) if d.is_zero() => {
                r.error(
                    node,
                    format!("`{}` must be longer than zero", r.field),
                    None,
                );
                None
            }
            Ok(d) if d > MAX_DURATION => {
                r.error(node, format!("`{}` must be at most 24h", r.field), None);
                None
            }
            Ok(d) => Some(Dur(d)),
            Err(e) => {
                r.error(
                    node,
                    format!("`{}`: invalid duration `{text}`: {e}", r.field),
                    Some(HINT.to_owned()),
                );
                None
            }
        }
    }
}

impl<T: FromNode> FromNode for Vec<T> {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            r.expected(node, "a list");
            return None;
        };
        let field = r.field;
        Some(
            items
                .iter()
                .filter_map(|item| {
                    r.field = field;
                    T::read(item, r)
                })
                .collect(),
        )
    }
}

impl<T: FromNode> FromNode for Located<T> {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let value = T::read(node, r)?;
        Some(Located {
            value,
            at: r.place(node),
        })
    }
}

/// Any YAML value as JSON (tool arguments, extra request fields); strings are interpolated.
impl FromNode for serde_json::Value {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        use serde_json::Value as Json;
        Some(match &node.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(n) => Json::from(*n),
            Value::UInt(n) => Json::from(*n),
            Value::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => Json::Number(n),
                None => {
                    r.error(node, "JSON has no infinities or NaN", None);
                    return None;
                }
            },
            Value::String(_) => Json::String(r.string(node)?),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(serde_json::Value::read(item, r)?);
                }
                Json::Array(out)
            }
            Value::Map(entries) => {
                let mut out = serde_json::Map::new();
                for (key, value) in entries {
                    let Value::String(key) = &key.value else {
                        r.error(key, "JSON object keys must be strings", None);
                        return None;
                    };
                    out.insert(key.clone(), serde_json::Value::read(value, r)?);
                }
                Json::Object(out)
            }
        })
    }
}

/// The fields of one mapping, read one by one; what is left at the end is unknown.
pub(super) struct Fields<'n, 'r, 'a> {
    pub(super) reader: &'r mut Reader<'a>,
    node: &'n Node,
    entries: &'n [(Node, Node)],
    /// The fields the type asked for (its known fields).
    known: Vec<&'static str>,
    /// What the mapping is, for messages: "an agent", "a model".
    what: &'static str,
}

impl<'n, 'r, 'a> Fields<'n, 'r, 'a> {
    /// Starts reading `node` as a mapping; reports and returns `None` if it is not one.
    pub(super) fn new(
        reader: &'r mut Reader<'a>,
        node: &'n Node,
        what: &'static str,
    ) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            reader.expected(node, &format!("a mapping ({what})"));
            return None;
        };
        // Keys must be strings and given once.
        let mut firsts: HashMap<&str, &Node> = HashMap::with_capacity(entries.len());
        for (key, _) in entries {
            match &key.value {
                Value::String(name) => {
                    let first = *firsts.entry(name).or_insert(key);
                    if !std::ptr::eq(first, key) {
                        reader.error(
                            key,
                            format!("`{name}` is given twice in {what}"),
                            Some(format!("the first is at line {}", first.at.line)),
                        );
                    }
                }
                _ => reader.error(
                    key,
                    format!("keys must be strings, found {}", key.value.kind()),
                    None,
                ),
            }
        }
        Some(Fields {
            reader,
            node,
            entries,
            known: Vec::new(),
            what,
        })
    }

    /// The node of `key`, if given (and not null); marks the field as known.
    pub(super) fn node(&mut self, key: &'static str) -> Option<&'n Node> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        self.entries
            .iter()
            .find(|(k, _)| matches!(&k.value, Value::String(n) if n == key))
            .map(|(_, v)| v)
            .filter(|v| v.value != Value::Null)
    }

    /// Whether `key` is given (without marking it known).
    pub(super) fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|(k, _)| matches!(&k.value, Value::String(n) if n == key))
    }

    /// The keys given, as written.
    pub(super) fn keys(&self) -> impl Iterator<Item = &'n str> + use<'n, 'r, 'a> {
        self.entries.iter().filter_map(|(k, _)| match &k.value {
            Value::String(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Reads an optional field.
    pub(super) fn get<T: FromNode>(&mut self, key: &'static str) -> Option<T> {
        let node = self.node(key)?;
        self.reader.field = key;
        T::read(node, self.reader)
    }

    /// Reads a field that must be given.
    pub(super) fn required<T: FromNode>(&mut self, key: &'static str) -> Option<T> {
        if self.node(key).is_none() {
            let what = self.what;
            let node = self.node;
            self.reader
                .error(node, format!("{what} needs `{key}`"), None);
            return None;
        }
        self.get(key)
    }

    /// Reports every field that was not asked for, with the nearest known name.
    pub(super) fn finish(self) {
        for (key, _) in self.entries {
            let Value::String(name) = &key.value else {
                continue;
            };
            if self.known.contains(&name.as_str()) {
                continue;
            }
            let hint = self
                .reader
                .problems
                .did_you_mean(name, self.known.iter().copied())
                .unwrap_or_else(|| format!("known fields: {}", self.known.join(", ")));
            self.reader.error(
                key,
                format!("unknown field `{name}` in {}", self.what),
                Some(hint),
            );
        }
    }
}

/// How much work the "did you mean" hints of one topology may do, counted in characters
/// read and cells of the edit-distance table (the product of two names' lengths). A real file
/// needs far less (a hundred typos among a thousand names: about ten million), but a file of
/// nothing but misspelt names, each compared with every name, or of two names a hundred
/// thousand characters long, would take minutes or hours. Past it, problems are still
/// reported, without a hint.
pub(super) const HINT_WORK: u64 = 50_000_000;

/// Suggests the closest of `candidates` to a misspelt `name`, spending the work from `work`
/// (see [`HINT_WORK`]); `None` if there is no close one, or if `work` runs out.
pub(super) fn did_you_mean<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    work: &mut u64,
) -> Option<String> {
    let mut spend = |cost: usize| match work.checked_sub(cost as u64) {
        Some(left) => {
            *work = left;
            true
        }
        None => {
            *work = 0;
            false
        }
    };
    if !spend(name.len()) {
        return None;
    }
    let name_chars = name.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if !spend(c.len()) {
            return None;
        }
        // Close, but not a different word: at most a third of the letters, and not all of them.
        let bound = (c.len().max(name.len()) / 3).max(1);
        // The distance is at least the difference in length: a candidate too long or too short
        // is not measured.
        let c_chars = c.chars().count();
        if c_chars.abs_diff(name_chars) > bound {
            continue;
        }
        if !spend(c_chars.saturating_mul(name_chars)) {
            return None;
        }
        let distance = strsim::osa_distance(name, c);
        if distance <= bound && distance < name.len() && best.is_none_or(|b| (distance, c) < b) {
            best = Some((distance, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
        let mut work = HINT_WORK;
        did_you_mean(name, candidates, &mut work)
    }

    #[test]
    fn hints_are_given_only_for_close_names() {
        assert_eq!(
            hint("ad", ["add", "sqrt"]),
            Some("did you mean `add`?".to_owned())
        );
        assert_eq!(hint("b", ["a"]), None);
        assert_eq!(hint("weather", ["add", "sqrt"]), None);
        assert_eq!(
            hint("instructons", ["name", "instructions"]),
            Some("did you mean `instructions`?".to_owned())
        );
    }

    #[test]
    fn hints_stop_when_their_work_runs_out() {
        // Two names a hundred thousand characters long would take seconds to compare.
        let (x, y) = ("x".repeat(100_000), "y".repeat(100_000));
        let mut work = HINT_WORK;
        assert_eq!(did_you_mean(&y, [x.as_str()], &mut work), None);
        assert_eq!(work, 0);
        assert_eq!(did_you_mean("ad", ["add"], &mut work), None);
    }

    #[test]
    fn names_of_very_different_lengths_cost_no_comparison() {
        let long = "x".repeat(100_000);
        let mut work = HINT_WORK;
        assert_eq!(did_you_mean(&long, ["add", "sqrt"], &mut work), None);
        assert_eq!(work, HINT_WORK - 100_000 - 7);
    }
}
