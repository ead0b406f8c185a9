//! `ApiKey`: an API key that cannot be printed by accident.
//!
//! Its `Debug` prints `[redacted]` and it has no `Display`, so no `{}`/`{:?}` in a log line,
//! a span field or an error message can show it. The HTTP layer reads it once per request
//! to build the `Authorization` header, which it marks sensitive.
//!
//! [`redact_url`] removes the credentials a URL may carry (`http://user:key@host`), for every
//! place a base URL or endpoint is shown.

use std::borrow::Cow;
use std::fmt;

/// What replaces a key found in a text.
const REDACTED: &str = "[redacted]";

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

    /// Replaces every occurrence of the key in `text` (an API's error message may quote it),
    /// written as is or URL-encoded, wholly or in part: any byte as `%XX` (either case of hex
    /// digits), and a space as `+` (form encoding). Keys shorter than 4 bytes are left alone:
    /// they would match ordinary text.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let key = self.0.as_bytes();
        if key.len() < 4 {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        // `copied` is where the text not yet copied to `out` starts.
        let (mut at, mut copied) = (0, 0);
        while at < bytes.len() {
            // A match starts with the key's first byte or a `%` (or `+`) that may encode it;
            // both are ASCII or a UTF-8 lead byte, so `at` is on a char boundary.
            match encoded_match(bytes, at, key) {
                Some(end) if text.is_char_boundary(at) && text.is_char_boundary(end) => {
                    out.push_str(&text[copied..at]);
                    out.push_str(REDACTED);
                    at = end;
                    copied = end;
                }
                _ => at += 1,
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// The end of the key matched at `text[at..]`, each byte written as is, as `%XX`, or (a space)
/// as `+`.
fn encoded_match(text: &[u8], mut at: usize, key: &[u8]) -> Option<usize> {
    for (index, &want) in key.iter().enumerate() {
        let here = *text.get(at)?;
        if here == b'%'
            && let Some(decoded) = hex_byte(text.get(at + 1..at + 3)?)
        {
            if decoded == want {
                at += 3;
                continue;
            }
            if want == b'%' {
                // A literal `%` in the key followed by two hex digits: try it as written.
                return encoded_match(text, at + 1, &key[index + 1..]);
            }
            return None;
        }
        if here == want || (want == b' ' && here == b'+') {
            at += 1;
        } else {
            return None;
        }
    }
    Some(at)
}

/// The byte two hex digits (either case) write.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let value = |d: u8| (d as char).to_digit(16);
    match digits {
        [high, low] => Some((value(*high)? * 16 + value(*low)?) as u8),
        _ => None,
    }
}

/// Removes the user info (`user:password@`) from every URL in `text`, so a base URL with
/// credentials in it (`http://user:key@host/v1`) shows as `http://host/v1`. Text without
/// `://` is returned as is.
///
/// Used wherever a URL is shown: the `baton run` line that names the live model, the
/// `POST <url>` of model errors, the model labels of timeouts.
pub fn redact_url(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        let tail = &rest[authority_start..];
        let authority_len = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || "\"'`<>".contains(c)
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_len];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[authority_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
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

    // See: issue 9
    #[test]
    fn scrub_removes_the_key_in_every_url_encoded_form() {
        let key = ApiKey::new("sk-te st+42/x");
        for echoed in [
            "sk-te st+42/x",
            "sk%2Dte%20st%2B42%2Fx",
            "sk%2dte+st%2b42%2fx",
            "%73%6B%2D%74%65%20%73%74%2B%34%32%2F%78",
            "sk-te%20st%2B42/x",
        ] {
            let text = format!("Incorrect API key provided: {echoed}. Check it.");
            assert_eq!(
                key.scrub(&text),
                "Incorrect API key provided: [redacted]. Check it.",
                "{echoed}"
            );
        }
        // Twice, next to multi-byte text, and not a near miss.
        assert_eq!(
            key.scrub("é sk%2Dte st+42/x ü sk-te st+42/x"),
            "é [redacted] ü [redacted]"
        );
        assert_eq!(key.scrub("sk%2Dte st+42/y"), "sk%2Dte st+42/y");
        let percent = ApiKey::new("ab%41cd");
        assert_eq!(
            percent.scrub("x ab%41cd y ab%2541cd"),
            "x [redacted] y [redacted]"
        );
    }

    // See: issue 9
    #[test]
    fn urls_lose_their_user_info_and_nothing_else() {
        assert_eq!(
            redact_url("http://user:sk-key@127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(
            redact_url("POST https://k@api.example.com/v1/responses?x=a@b"),
            "POST https://api.example.com/v1/responses?x=a@b"
        );
        assert_eq!(
            redact_url("at http://a:b@h/v1 and (http://c@d)"),
            "at http://h/v1 and (http://d)"
        );
        assert_eq!(
            redact_url("https://api.openai.com/v1"),
            "https://api.openai.com/v1"
        );
        assert_eq!(redact_url("no url here"), "no url here");
    }
}
