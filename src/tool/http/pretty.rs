//! Pretty-prints a JSON text as it is: keys keep their order and numbers their digits (a
//! parse into `serde_json::Value` would sort keys and round big numbers), indented like
//! `serde_json::to_string_pretty`.

/// `json` indented by two spaces per level, or `None` when it is not valid JSON.
pub(crate) fn pretty(json: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(json).ok()?;
    let mut out = Vec::with_capacity(json.len() + json.len() / 4);
    let mut depth = 0_usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut at = 0;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    while let Some(&byte) = json.get(at) {
        at += 1;
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(byte);
            }
            b'{' | b'[' => {
                out.push(byte);
                while json.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                if matches!(json.get(at), Some(b'}' | b']')) {
                    // An empty object or array stays `{}` / `[]`.
                    out.push(json[at]);
                    at += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(byte);
            }
            b',' => {
                out.push(byte);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            other => out.push(other),
        }
    }
    // Only ASCII was added to valid UTF-8, cut at ASCII bytes.
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_matches_serde_json_but_keeps_order_and_digits() {
        let text =
            r#" {"z": [1, {"a": "x, \"y\": {"}, [], {}], "a" :12345678901234567890123, "s": "é"} "#;
        assert_eq!(
            pretty(text.as_bytes()).unwrap(),
            "{\n  \"z\": [\n    1,\n    {\n      \"a\": \"x, \\\"y\\\": {\"\n    },\n    [],\n    {}\n  ],\n  \"a\": 12345678901234567890123,\n  \"s\": \"é\"\n}"
        );
        let sorted = br#"{"a":[1,{"b":null}],"c":"d"}"#;
        let value: serde_json::Value = serde_json::from_slice(sorted).unwrap();
        assert_eq!(
            pretty(sorted).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(pretty(b"42").as_deref(), Some("42"));
        assert_eq!(pretty(b"{\"a\":"), None);
    }
}
