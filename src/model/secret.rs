//! `ApiKey`: an API key that cannot be printed by accident.
//!
//! Its `Debug` prints `[redacted]` and it has no `Display`, so no `{}`/`{:?}` in a log line,
//! a span field or an error message can show it. The HTTP layer reads it once per request
//! to build the `Authorization` header, which it marks sensitive.

use std::fmt;

/// An API key. Read it from the environment with [`ApiKey::from_env`].
///
/// ```
/// use baton::model::ApiKey;
///
/// let key = ApiKey::new("sk-secret");
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// Reads the key from the environment variable `name`; `None` when it is unset or empty.
    pub fn from_env(name: &str) -> Option<Self> {
        std::env::var(name)
            .ok()
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty())
            .map(ApiKey)
    }

    /// The key itself: for the `Authorization` header, and for the mock server to compare a
    /// request's bearer token with.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the key in `text` (an API's error message may quote it).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() >= 4 && text.contains(&self.0) {
            text.replace(&self.0, "[redacted]")
        } else {
            text.to_owned()
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key_even_inside_other_types() {
        let key = ApiKey::new("sk-test-1234567890");
        let shown = format!("{:?} {:#?}", Some(&key), vec![key.clone()]);
        assert!(!shown.contains("sk-test"), "{shown}");
        assert_eq!(
            key.scrub("bad key sk-test-1234567890!"),
            "bad key [redacted]!"
        );
    }
}
