//! Environment interpolation in string values: `${VAR}`, `${VAR:-default}`, and `$${` for a
//! literal `${`.
//!
//! Applied by the reader to every string value (never to keys), so `model: ${MODEL:-gpt-4.1-mini}`
//! or `base_url: ${LLM_URL}` work anywhere a string does. Only `${` followed by a letter or `_`
//! starts a reference; any other `$` is kept as written, so prices ("refunds over $500") and
//! scripted texts (`${{output:refund}}`) need no escaping.
//!
//! Any variable can be read this way, into instructions and scripted texts too (and from there
//! into a model's requests and a run's answer), except the variables models read their API
//! keys from (every model's `api_key_env`, and `OPENAI_API_KEY`): a reference to one is an error, so a key cannot be copied into
//! text by a topology.

use std::borrow::Cow;

/// Looks up an environment variable.
pub(super) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where `${VAR}` values come from, and which variables they may never come from.
#[derive(Clone, Copy)]
pub(super) struct Env<'a> {
    /// The values.
    values: Lookup<'a>,
    /// The variables that hold API keys (every model's `api_key_env`, and the default), sorted.
    keys: &'a [String],
}

impl<'a> Env<'a> {
    /// Values from `values`, refusing the variables named in `keys` (sorted).
    pub(super) fn new(values: Lookup<'a>, keys: &'a [String]) -> Self {
        Env { values, keys }
    }

    /// The value of `name`, key variables included (for values that are never shown, such
    /// as an HTTP tool's `{env:VAR}` headers).
    pub(super) fn secret(&self, name: &str) -> Option<String> {
        (self.values)(name)
    }
}

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnvError {
    /// `${NAME}` with `NAME` unset and no default.
    Unset(String),
    /// `${` not followed by a name and `}`.
    Malformed(String),
    /// `${NAME}` where `NAME` holds an API key (default or not).
    Key(String),
}

/// Replaces every `${VAR}` and `${VAR:-default}` in `text`.
///
/// `${VAR:-default}` uses the default when `VAR` is unset or empty (as in shells and
/// docker-compose); the default itself is not interpolated. A key variable is
/// an error whether it is set or not.
pub(super) fn interpolate<'t>(text: &'t str, env: Env<'_>) -> Result<Cow<'t, str>, EnvError> {
    if !text.contains("${") {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        // `$${` is a literal `${`.
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let body_start = start + 2;
        let starts_name = rest[body_start..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        if !starts_name {
            out.push_str("${");
            rest = &rest[body_start..];
            continue;
        }
        let Some(len) = rest[body_start..].find('}') else {
            return Err(EnvError::Malformed(shorten(&rest[start..])));
        };
        let body = &rest[body_start..body_start + len];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_name(name) {
            return Err(EnvError::Malformed(format!("${{{body}}}")));
        }
        if env
            .keys
            .binary_search_by(|key| key.as_str().cmp(name))
            .is_ok()
        {
            return Err(EnvError::Key(name.to_owned()));
        }
        match (
            (env.values)(name).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => return Err(EnvError::Unset(name.to_owned())),
        }
        rest = &rest[body_start + len + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// Whether `name` can name an environment variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn shorten(text: &str) -> String {
    text.chars().take(24).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "MODEL" => Some("gpt-4.1".into()),
            "EMPTY" => Some(String::new()),
            "MY_KEY" => Some("sk-secret".into()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, EnvError> {
        let keys = ["MY_KEY".to_owned(), "OPENAI_API_KEY".to_owned()]; // sorted
        interpolate(text, Env::new(&env, &keys)).map(Cow::into_owned)
    }

    #[test]
    fn variables_and_defaults_are_replaced() {
        assert_eq!(run("m=${MODEL}!").unwrap(), "m=gpt-4.1!");
        assert_eq!(run("${NOPE:-mini}").unwrap(), "mini");
        assert_eq!(run("${EMPTY:-mini}").unwrap(), "mini");
        assert_eq!(run("${EMPTY}").unwrap(), "");
        assert_eq!(run("${MODEL:-x}/${NOPE:-}").unwrap(), "gpt-4.1/");
    }

    #[test]
    fn dollar_signs_that_are_not_references_stay() {
        assert_eq!(run("refunds over $500").unwrap(), "refunds over $500");
        assert_eq!(run("literal $${MODEL}").unwrap(), "literal ${MODEL}");
        assert_eq!(run("${{output:refund}}").unwrap(), "${{output:refund}}");
        assert_eq!(run("${ spaced }").unwrap(), "${ spaced }");
    }

    #[test]
    fn unset_and_malformed_references_are_errors() {
        assert_eq!(run("${NOPE}"), Err(EnvError::Unset("NOPE".into())));
        assert_eq!(run("${X Y}"), Err(EnvError::Malformed("${X Y}".into())));
        assert_eq!(run("${MODEL"), Err(EnvError::Malformed("${MODEL".into())));
    }

    // See: issue 9
    #[test]
    fn key_variables_are_never_interpolated_set_or_not() {
        assert_eq!(run("key: ${MY_KEY}"), Err(EnvError::Key("MY_KEY".into())));
        assert_eq!(
            run("${OPENAI_API_KEY:-none}"),
            Err(EnvError::Key("OPENAI_API_KEY".into()))
        );
        assert_eq!(run("$${MY_KEY}").unwrap(), "${MY_KEY}");
    }
}
