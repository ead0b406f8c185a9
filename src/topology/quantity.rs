//! The values a `simulation:` section is written in: shares (`0.05` or `"5%"`), weights,
//! seeds, distributions of latencies and counts, mappings keyed by name, and regexes. Each
//! reads itself from a located node (`read`) and describes itself in the JSON Schema.

use std::collections::HashMap;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::read::{Fields, FromNode, Located, MAX_DURATION, Reader};
use super::tree::{Node, Value};
use crate::sim::{Distribution, Shape};

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

// ===== distributions =====

/// What a [`Dist`] is a distribution of: how one value of it is written.
pub(crate) trait Quantity {
    /// Its name in the schema (`Latency`, `Count`).
    const NAME: &'static str;
    /// Reads one value, as a number (milliseconds for latencies).
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<f64>;
    /// The JSON Schema of one value.
    fn schema() -> serde_json::Value;
}

/// A latency: a duration such as `500ms` or `1.5s`, zero to 24 hours, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Millis;

impl Quantity for Millis {
    const NAME: &'static str = "Latency";

    fn read(node: &Node, r: &mut Reader<'_>) -> Option<f64> {
        const HINT: &str = "write it like `500ms` or `2s`";
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
            Ok(d) if d > MAX_DURATION => {
                r.error(node, format!("`{}` must be at most 24h", r.field), None);
                None
            }
            Ok(d) => Some(d.as_secs_f64() * 1000.0),
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

    fn schema() -> serde_json::Value {
        serde_json::json!({
            "type": "string",
            "description": "A duration such as `500ms` or `2s`.",
        })
    }
}

/// A count (of tokens): a number, not negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Number;

impl Quantity for Number {
    const NAME: &'static str = "Count";

    fn read(node: &Node, r: &mut Reader<'_>) -> Option<f64> {
        let value = f64::read(node, r)?;
        if value.is_finite() && value >= 0.0 {
            Some(value)
        } else {
            let what = if value < 0.0 {
                "must not be negative"
            } else {
                "must be a finite number"
            };
            r.error(node, format!("`{}` {what}", r.field), None);
            None
        }
    }

    fn schema() -> serde_json::Value {
        serde_json::json!({ "type": "number", "minimum": 0 })
    }
}

/// A distribution of a [`Quantity`]: one value (always it), or a mapping with one shape key
/// (`fixed`, `uniform`, `normal`, `lognormal`) and an optional cap (`max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dist<Q>(pub(crate) Distribution, PhantomData<Q>);

/// The shape keys of a distribution.
const SHAPES: [&str; 4] = ["fixed", "uniform", "normal", "lognormal"];

impl<Q: Quantity> JsonSchema for Dist<Q> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}Distribution", Q::NAME).into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let q = Q::schema();
        let shape = |key: &str, value: serde_json::Value| {
            serde_json::json!({
                "type": "object",
                "properties": { key: value, "max": q },
                "required": [key],
                "additionalProperties": false,
            })
        };
        let pair = |a: &str, b: &str, b_schema: serde_json::Value| {
            serde_json::json!({
                "type": "object",
                "properties": { a: q, b: b_schema },
                "required": [a, b],
                "additionalProperties": false,
            })
        };
        let sigma = serde_json::json!({ "type": "number", "minimum": 0 });
        schemars::json_schema!({
            "description": "A fixed value, or a distribution: `{uniform: [min, max]}`, `{normal: {mean, sd}}` or `{lognormal: {median, sigma}}`, each with an optional cap `max`.",
            "anyOf": [
                q,
                shape("fixed", q.clone()),
                shape("uniform", serde_json::json!({
                    "type": "array", "items": q, "minItems": 2, "maxItems": 2,
                })),
                shape("normal", pair("mean", "sd", q.clone())),
                shape("lognormal", pair("median", "sigma", sigma)),
            ],
        })
    }
}

impl<Q: Quantity> FromNode for Dist<Q> {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            return Q::read(node, r).map(|value| Dist(Distribution::fixed(value), PhantomData));
        };
        let field = r.field;
        let mut f = Fields::new(r, node, "a distribution")?;
        let present: Vec<&str> = SHAPES.into_iter().filter(|k| f.has(k)).collect();
        let shape = match present.as_slice() {
            [] => {
                let keys = entries.iter().filter_map(|(k, _)| match &k.value {
                    Value::String(name) if name != "max" => Some(name.as_str()),
                    _ => None,
                });
                let mut hint = None;
                for key in keys {
                    hint = f.reader.problems.did_you_mean(key, SHAPES);
                    if hint.is_some() {
                        break;
                    }
                }
                f.reader.error(
                    node,
                    format!("`{field}` needs one of `fixed`, `uniform`, `normal` or `lognormal`"),
                    hint.or_else(|| Some("or write one value: `500ms`".to_owned())),
                );
                return None;
            }
            [key] => read_shape::<Q>(&mut f, key),
            [first, second, ..] => {
                f.reader.error(
                    node,
                    format!("a distribution has one shape: `{first}` or `{second}`, not both"),
                    None,
                );
                return None;
            }
        };
        let max = f.get::<One<Q>>("max").map(|one| one.0);
        f.finish();
        let mut distribution = Distribution::new(shape?);
        if let Some(max) = max {
            distribution = distribution.with_max(max);
        }
        Some(Dist(distribution, PhantomData))
    }
}

/// Reads the shape under `key` (one of [`SHAPES`]).
fn read_shape<Q: Quantity>(f: &mut Fields<'_, '_, '_>, key: &str) -> Option<Shape> {
    match key {
        "fixed" => f.get::<One<Q>>("fixed").map(|one| Shape::Fixed(one.0)),
        "uniform" => {
            let node = f.node("uniform")?;
            let Value::Seq(items) = &node.value else {
                f.reader.error(
                    node,
                    "`uniform` must be a list of two values: [min, max]",
                    None,
                );
                return None;
            };
            let [low, high] = items.as_slice() else {
                f.reader.error(
                    node,
                    "`uniform` must be a list of two values: [min, max]",
                    None,
                );
                return None;
            };
            f.reader.field = "uniform";
            let low = Q::read(low, f.reader);
            f.reader.field = "uniform";
            let (min, max) = (low?, Q::read(high, f.reader)?);
            if min > max {
                f.reader.error(
                    node,
                    "`uniform` must go from the smaller value to the larger: [min, max]",
                    None,
                );
                return None;
            }
            Some(Shape::Uniform { min, max })
        }
        "normal" => {
            let node = f.node("normal")?;
            let mut g = Fields::new(f.reader, node, "a normal distribution")?;
            let mean = quantity::<Q>(&mut g, "mean");
            let sd = quantity::<Q>(&mut g, "sd");
            g.finish();
            Some(Shape::Normal {
                mean: mean?,
                sd: sd?,
            })
        }
        _ => {
            let node = f.node("lognormal")?;
            let mut g = Fields::new(f.reader, node, "a log-normal distribution")?;
            let median = quantity::<Q>(&mut g, "median");
            let sigma = g.required::<Located<f64>>("sigma").and_then(|sigma| {
                if sigma.value >= 0.0 && sigma.value.is_finite() {
                    Some(sigma.value)
                } else {
                    g.reader
                        .problems
                        .error(&sigma.at, "`sigma` must not be negative", None);
                    None
                }
            });
            g.finish();
            Some(Shape::LogNormal {
                median: median?,
                sigma: sigma?,
            })
        }
    }
}

/// One value of a [`Quantity`], read as a field.
struct One<Q>(f64, PhantomData<Q>);

impl<Q: Quantity> FromNode for One<Q> {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        Q::read(node, r).map(|value| One(value, PhantomData))
    }
}

/// Reads the required quantity `key` of a shape's mapping.
fn quantity<Q: Quantity>(f: &mut Fields<'_, '_, '_>, key: &'static str) -> Option<f64> {
    f.required::<One<Q>>(key).map(|one| one.0)
}
