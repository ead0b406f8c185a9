//! `Bytes`: a size in a topology, a whole number of bytes or a number with a unit (`64KiB`,
//! `1MiB`, `10MB`), from one byte to 1 GiB.

use schemars::JsonSchema;

use crate::topology::read::{FromNode, Reader};
use crate::topology::tree::{Node, Value};

/// The largest size a topology may set.
const MAX: u64 = 1 << 30;

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bytes(pub(crate) usize);

impl JsonSchema for Bytes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bytes".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A size: bytes, or a number with a unit (`B`, `KB`, `KiB`, `MB`, `MiB`, `GiB`), at most 1 GiB.",
            "anyOf": [
                { "type": "integer", "minimum": 1, "maximum": MAX },
                { "type": "string", "examples": ["64KiB", "1MiB"] },
            ],
        })
    }
}

impl FromNode for Bytes {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        const HINT: &str = "write bytes (`65536`) or a size with a unit (`64KiB`, `1MiB`)";
        let bytes = match &node.value {
            Value::UInt(n) => Some(*n),
            Value::Int(n) => u64::try_from(*n).ok(),
            Value::String(text) => parse(text),
            _ => None,
        };
        match bytes {
            Some(n) if (1..=MAX).contains(&n) => usize::try_from(n).ok().map(Bytes),
            Some(_) => {
                r.error(node, "a size must be from 1 byte to 1GiB", None);
                None
            }
            None => {
                r.error(node, "expected a size", Some(HINT.to_owned()));
                None
            }
        }
    }
}

/// Reads `64KiB`, `1 MiB`, `10MB`, `512B` or `4096`.
fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_with_and_without_units() {
        assert_eq!(super::parse("64KiB"), Some(65_536));
        assert_eq!(super::parse("1 MiB"), Some(1_048_576));
        assert_eq!(super::parse("10MB"), Some(10_000_000));
        assert_eq!(super::parse("512"), Some(512));
        assert_eq!(super::parse("5 parsecs"), None);
        assert_eq!(super::parse("MiB"), None);
    }
}
