//! `Redactor`: removes an HTTP tool's secrets (the `{env:VAR}` values of its headers, and the
//! header values built from them) from every text the model or a log may see: the response's
//! status line, headers and body (a server may echo the request), and error messages.
//!
//! Each secret is matched as written, URL-encoded ([`ApiKey::scrub`]) and JSON-escaped; a body
//! cut at its cap that ends in the first bytes of a secret loses those bytes too.

use crate::model::ApiKey;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The secrets of one request, longest first (so a header value goes before the variable
/// inside it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// The secrets and their JSON-escaped forms.
    secrets: Vec<ApiKey>,
}

impl Redactor {
    /// Adds a secret (and its JSON-escaped form, when that differs).
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or(secret);
        for form in [secret, escaped] {
            if !self.secrets.iter().any(|s| s.expose() == form) {
                self.secrets.push(ApiKey::new(form));
            }
        }
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = match secret.expose() {
                // Too short for the encoded forms (they would match ordinary text): exact
                // matches only, still never shown.
                short if short.len() < 4 => out.replace(short, REDACTED),
                _ => secret.scrub(&out),
            };
        }
        out
    }

    /// Like [`scrub`](Self::scrub), for a text that was cut: a tail that is the start of a
    /// secret (4 bytes or more) is replaced too.
    pub(crate) fn scrub_cut(&self, text: &str) -> String {
        let mut out = self.scrub(text);
        for secret in &self.secrets {
            let secret = secret.expose();
            let longest = (4..secret.len())
                .rev()
                .filter(|&n| secret.is_char_boundary(n))
                .find(|&n| out.ends_with(&secret[..n]));
            if let Some(n) = longest {
                out.truncate(out.len() - n);
                out.push_str(REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_in_every_form_longest_first() {
        let mut redactor = Redactor::default();
        redactor.add("s3cr\"et-value");
        redactor.add("Bearer s3cr\"et-value");
        assert_eq!(
            redactor
                .scrub("auth: Bearer s3cr\"et-value; raw s3cr%22et-value; json s3cr\\\"et-value"),
            "auth: [redacted]; raw [redacted]; json [redacted]"
        );
    }

    #[test]
    fn a_cut_text_ending_in_part_of_a_secret_loses_that_part() {
        let mut redactor = Redactor::default();
        redactor.add("tok-1234567");
        assert_eq!(redactor.scrub_cut("echo: tok-12"), "echo: [redacted]");
        assert_eq!(redactor.scrub_cut("echo: to"), "echo: to");
        assert_eq!(redactor.scrub_cut("plain text"), "plain text");
    }

    #[test]
    fn a_short_secret_is_still_removed_where_it_appears_as_is() {
        let mut redactor = Redactor::default();
        redactor.add("k9");
        assert_eq!(redactor.scrub("key=k9;"), "key=[redacted];");
    }
}
