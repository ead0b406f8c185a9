//! The YAML of one topology file as a tree of located nodes, before it is given any meaning.
//!
//! serde-saphyr parses the text under tight budgets (hostile input meets a clear error in
//! bounded time and memory: alias bombs, deep nesting, huge scalars), and every node keeps its
//! line and column. The reader (`read`) then walks this tree and can report every problem at
//! once, which serde's first-error-wins deserialization cannot.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

use super::diagnostic::{Diagnostic, Place};

/// A YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    /// Where the node is used (for an alias, the `*alias`).
    pub(super) at: Pos,
    pub(super) value: Value,
}

/// A line, column and width (in characters) in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Pos {
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) len: u32,
}

impl Pos {
    /// This position in `file`.
    pub(super) fn place(self, file: &Arc<Path>) -> Place {
        Place {
            file: Arc::clone(file),
            line: self.line,
            column: self.column,
            len: self.len,
        }
    }
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Bool(bool),
    /// A whole number that fits in an `i64` (negative) ...
    Int(i64),
    /// ... or a `u64`.
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in the order written; duplicate keys are kept so they can be reported.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// Names the kind of value, for "expected ..., found ..." messages.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "true or false",
            Value::Int(_) | Value::UInt(_) => "a number",
            Value::Float(_) => "a decimal number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// The parser's budgets. Topology files are small, so they are tight: about 100,000 nodes
/// (a thousand agents would use a few tens of thousands), 32 levels of nesting, and 16 MiB of
/// scalar text counting every expansion of an alias. Each budget fails in well under a second.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 100_000,
            max_events: 400_000,
            max_depth: 32,
            flow_nesting_limit: 32,
            max_total_scalar_bytes: 16 * 1024 * 1024,
            max_documents: 1,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_merge_keys: 1_000,
        },
        // Reported by the reader, with both places, alongside every other problem.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        // `!include` and friends would silently mean nothing here.
        reject_unsupported_tags: true,
        // YAML 1.2: only `true` and `false` are booleans; `yes`, `no`, `on`, `y` are strings.
        strict_booleans: true,
        with_snippet: false,
    }
}

/// Parses one file's text.
///
/// # Errors
///
/// The YAML syntax error or exhausted budget, located.
pub(super) fn parse(text: &str, file: &Arc<Path>) -> Result<Node, Diagnostic> {
    serde_saphyr::from_str_with_options::<Node>(text, options()).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        let message = e.without_snippet().to_string();
        // serde-saphyr appends the location (and alias sites) to its messages; ours are
        // located already.
        let message = match message.find(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        let hint = message
            .contains("budget breached")
            .then(|| "topology files are limited to 100,000 YAML nodes, 32 levels of nesting and 16 MiB of text after aliases".to_owned());
        Diagnostic::error(
            Place {
                file: Arc::clone(file),
                line: to_u32(line),
                column: to_u32(column),
                len: 1,
            },
            message,
            hint,
        )
    })
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let at = spanned.referenced;
        Ok(Node {
            at: Pos {
                line: to_u32(at.line()),
                column: to_u32(at.column()),
                len: to_u32(at.span().len()).max(1),
            },
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(if v < 0 {
            Value::Int(v)
        } else {
            Value::UInt(v.unsigned_abs())
        })
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<Path> {
        Arc::from(Path::new("t.yaml"))
    }

    fn map(node: &Node) -> &[(Node, Node)] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn nodes_keep_their_line_and_column() {
        let root = parse("entry: a\nagents:\n  - name: b\n", &file()).unwrap();
        let entries = map(&root);
        assert_eq!(entries[0].0.value, Value::String("entry".into()));
        assert_eq!((entries[0].1.at.line, entries[0].1.at.column), (1, 8));
        let Value::Seq(agents) = &entries[1].1.value else {
            panic!()
        };
        let name = &map(&agents[0])[0].1;
        assert_eq!((name.at.line, name.at.column, name.at.len), (3, 11, 1));
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_reader_to_report() {
        let root = parse("a: 1\na: 2\n", &file()).unwrap();
        assert_eq!(map(&root).len(), 2);
    }

    #[test]
    fn merge_keys_are_expanded() {
        let root = parse("d: &d {x: 1, y: 2}\ne:\n  <<: *d\n  y: 3\n", &file()).unwrap();
        let e = &map(&root)[1].1;
        let values: Vec<_> = map(e)
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect();
        assert!(
            values.contains(&(Value::String("y".into()), Value::UInt(3))),
            "{values:?}"
        );
        assert!(values.contains(&(Value::String("x".into()), Value::UInt(1))));
    }

    #[test]
    fn unknown_tags_and_second_documents_are_errors() {
        let e = parse("a: !include other.yaml\n", &file()).unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (1, 13, "unsupported tag `!include`")
        );
        let e = parse("a: 1\n---\nb: 2\n", &file()).unwrap_err();
        assert_eq!(e.line, 2);
    }
}
