//! Distributions of latencies and counts as a `simulation:` section writes them: one value,
//! or a mapping with one shape (`fixed`, `uniform`, `normal`, `lognormal`) and a cap (`max`),
//! read into a [`Distribution`] and checked as they are read (a `uniform` whose min is more
//! than its max, a negative spread).

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::read::{Fields, FromNode, Located, MAX_DURATION, Reader};
use super::tree::{Node, Value};
use crate::sim::{Distribution, Shape};

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::sim::{Distribution, Shape};

    /// The latency and input tokens of model entry `scripted` in a simulation, or the
    /// problems found.
    fn read(latency: &str, tokens: &str) -> Result<(Distribution, Distribution), Vec<String>> {
        let yaml = format!(
            "entry: a\nagents:\n  - name: a\n    scripted: [{{ text: hi }}]\nsimulation:\n  models:\n    scripted:\n      latency: {latency}\n      tokens: {{ input: {tokens} }}\n"
        );
        match crate::topology::parse(&yaml, Path::new("t.yaml")) {
            Ok(t) => {
                let model = &t.simulation().unwrap().models[crate::sim::NO_MODEL];
                Ok((model.latency.unwrap(), model.input_tokens.unwrap()))
            }
            Err(e) => Err(e
                .diagnostics()
                .iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect()),
        }
    }

    #[test]
    fn every_shape_reads_with_its_cap_latencies_in_milliseconds() {
        let cases = [
            (
                "500ms",
                "400",
                Shape::Fixed(500.0),
                Shape::Fixed(400.0),
                None,
            ),
            ("0ms", "0", Shape::Fixed(0.0), Shape::Fixed(0.0), None),
            (
                "{ fixed: 1s, max: 2s }",
                "{ fixed: 3, max: 4 }",
                Shape::Fixed(1000.0),
                Shape::Fixed(3.0),
                Some((2000.0, 4.0)),
            ),
            (
                "{ uniform: [100ms, 300ms] }",
                "{ uniform: [1, 1] }",
                Shape::Uniform {
                    min: 100.0,
                    max: 300.0,
                },
                Shape::Uniform { min: 1.0, max: 1.0 },
                None,
            ),
            (
                "{ normal: { mean: 1.5s, sd: 100ms }, max: 2s }",
                "{ normal: { mean: 400, sd: 0 }, max: 900 }",
                Shape::Normal {
                    mean: 1500.0,
                    sd: 100.0,
                },
                Shape::Normal {
                    mean: 400.0,
                    sd: 0.0,
                },
                Some((2000.0, 900.0)),
            ),
            (
                "{ lognormal: { median: 500ms, sigma: 0.5 } }",
                "{ lognormal: { median: 60, sigma: 1 } }",
                Shape::LogNormal {
                    median: 500.0,
                    sigma: 0.5,
                },
                Shape::LogNormal {
                    median: 60.0,
                    sigma: 1.0,
                },
                None,
            ),
        ];
        for (latency, tokens, latency_shape, tokens_shape, caps) in cases {
            let (mut want_latency, mut want_tokens) = (
                Distribution::new(latency_shape),
                Distribution::new(tokens_shape),
            );
            if let Some((latency_cap, tokens_cap)) = caps {
                want_latency = want_latency.with_max(latency_cap);
                want_tokens = want_tokens.with_max(tokens_cap);
            }
            assert_eq!(
                read(latency, tokens),
                Ok((want_latency, want_tokens)),
                "{latency} / {tokens}"
            );
        }
    }

    #[test]
    fn shapes_that_cannot_be_sampled_are_reported_where_they_are_written() {
        assert_eq!(
            read("{ uniform: [2s, 1s] }", "{ uniform: [1, 2, 3] }"),
            Err(vec![
                "8:27: `uniform` must go from the smaller value to the larger: [min, max]"
                    .to_owned(),
                "9:35: `uniform` must be a list of two values: [min, max]".to_owned(),
            ])
        );
        assert_eq!(
            read(
                "{ normal: { mean: 1s } }",
                "{ normal: { mean: 1, sd: -1 } }"
            ),
            Err(vec![
                "8:26: a normal distribution needs `sd`".to_owned(),
                "9:49: `sd` must not be negative".to_owned(),
            ])
        );
        assert_eq!(
            read(
                "{ uniform: [1s, 2s], normal: { mean: 1s, sd: 1s } }",
                "{ lognorm: 3 }"
            ),
            Err(vec![
                "8:16: a distribution has one shape: `uniform` or `normal`, not both".to_owned(),
                "9:24: `input` needs one of `fixed`, `uniform`, `normal` or `lognormal`".to_owned(),
            ])
        );
        assert_eq!(
            read("500", "-3"),
            Err(vec![
                "8:16: `latency` needs a unit".to_owned(),
                "9:24: `input` must not be negative".to_owned(),
            ])
        );
    }
}
