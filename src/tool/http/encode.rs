//! How an argument's JSON value becomes text in a request: strings as they are, numbers and
//! booleans as JSON text, objects and arrays as compact JSON; and how that text is
//! percent-encoded so it stays inside its path segment or query value.

use std::borrow::Cow;

use serde_json::Value;

/// The text of an argument, `None` when it is `null` (treated as absent).
pub(crate) fn value_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(Cow::Borrowed(text)),
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// Appends `text` percent-encoded, every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// as `%XX`: safe as one path segment and as a query name or value (`/`, `?`, `#`, `&`, `=`,
/// `+`, `%`, `\`, spaces and non-ASCII are all encoded).
pub(crate) fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// `text` percent-encoded (see [`push_encoded`]).
#[cfg(test)]
fn encoded(text: &str) -> String {
    let mut out = String::new();
    push_encoded(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_text_strings_as_they_are_the_rest_as_json() {
        assert_eq!(value_text(&json!("a b")).as_deref(), Some("a b"));
        assert_eq!(value_text(&json!(42)).as_deref(), Some("42"));
        assert_eq!(value_text(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(value_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(
            value_text(&json!({"a": [1, "x"]})).as_deref(),
            Some(r#"{"a":[1,"x"]}"#)
        );
        assert_eq!(value_text(&json!(null)), None);
    }

    #[test]
    fn every_delimiter_space_and_non_ascii_byte_is_encoded() {
        assert_eq!(encoded("../a?b#c"), "..%2Fa%3Fb%23c");
        assert_eq!(encoded("x&y=z+1 %"), "x%26y%3Dz%2B1%20%25");
        assert_eq!(encoded("a\\b;c,d:e@f"), "a%5Cb%3Bc%2Cd%3Ae%40f");
        assert_eq!(encoded("é"), "%C3%A9");
        assert_eq!(encoded("Az09-._~"), "Az09-._~");
    }
}
