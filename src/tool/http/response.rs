//! `Answer`: a response read up to the tool's byte cap, and the text the model reads of it:
//!
//! ```text
//! HTTP 200 OK
//! content-type: application/json
//!
//! <body: JSON pretty-printed when the content type is JSON and the whole body was read;
//! else text; not UTF-8: "[binary body: N bytes, <content-type>]">
//! [cut at N bytes: the body is longer]
//! ```

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use super::redact::Redactor;

/// The response headers the model is shown (when present), in this order.
const SHOWN: [&str; 3] = ["content-type", "location", "retry-after"];

/// A response, its body read up to the cap.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status.
    pub(crate) status: StatusCode,
    /// The headers of [`SHOWN`] that the response has.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// At most the cap's bytes of the body.
    pub(crate) body: Vec<u8>,
    /// Whether the body was longer than [`body`](Self::body).
    pub(crate) cut: bool,
}

/// The headers of `headers` shown to the model.
fn shown(headers: &HeaderMap) -> Vec<(&'static str, String)> {
    SHOWN
        .iter()
        .filter_map(|&name| {
            let value = headers.get(name)?;
            Some((name, String::from_utf8_lossy(value.as_bytes()).into_owned()))
        })
        .collect()
}

/// Reads `response`, keeping at most `cap` body bytes; the rest is never read (past one
/// chunk that shows there is more) and the connection closes.
pub(crate) async fn read(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Answer, reqwest::Error> {
    let status = response.status();
    let headers = shown(response.headers());
    let hint = response.content_length().map_or(0, |n| n.min(cap as u64));
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(cap));
    let mut cut = false;
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            cut = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body,
        cut,
    })
}

impl Answer {
    /// The text the model reads, every secret of `redactor` removed.
    pub(crate) fn render(&self, redactor: &Redactor) -> String {
        let mut out = format!("HTTP {}", self.status.as_u16());
        if let Some(reason) = self.status.canonical_reason() {
            out.push(' ');
            out.push_str(reason);
        }
        out.push('\n');
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&redactor.scrub(value));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.body_text(redactor));
        if self.cut {
            out.push_str(&format!(
                "\n[cut at {} bytes: the body is longer]",
                self.body.len()
            ));
        }
        out
    }

    /// The body as text: JSON pretty-printed when whole, text, or a note for binary data.
    fn body_text(&self, redactor: &Redactor) -> String {
        if self.body.is_empty() {
            return if self.cut {
                String::new()
            } else {
                "[empty body]".to_owned()
            };
        }
        let content_type = self
            .headers
            .iter()
            .find(|(name, _)| *name == CONTENT_TYPE.as_str())
            .map(|(_, value)| value.as_str());
        if !self.cut
            && content_type.is_some_and(is_json)
            && let Some(pretty) = super::pretty::pretty(&self.body)
        {
            return redactor.scrub(&pretty);
        }
        let text = match std::str::from_utf8(&self.body) {
            Ok(text) => text,
            // A cut may split the last character: keep the whole ones before it.
            Err(e) if self.cut && e.error_len().is_none() => {
                std::str::from_utf8(&self.body[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => {
                return format!(
                    "[binary body: {} bytes, {}]",
                    self.body.len(),
                    redactor.scrub(content_type.unwrap_or("no content type"))
                );
            }
        };
        if self.cut {
            redactor.scrub_cut(text)
        } else {
            redactor.scrub(text)
        }
    }
}

/// Whether a content type is JSON (`application/json`, `application/problem+json`, ...).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(content_type: &str, body: &[u8], cut: bool) -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.to_vec(),
            cut,
        }
    }

    #[test]
    fn a_whole_json_body_is_pretty_printed() {
        let text = answer("application/json; charset=utf-8", br#"{"a":[1,2]}"#, false)
            .render(&Redactor::default());
        assert_eq!(
            text,
            "HTTP 200 OK\ncontent-type: application/json; charset=utf-8\n\n{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
    }

    #[test]
    fn a_cut_body_is_text_with_a_note_and_keeps_whole_characters() {
        let whole = "{\"a\": \"é".as_bytes();
        // Cut inside the `é`.
        let text = answer("application/json", &whole[..whole.len() - 1], true)
            .render(&Redactor::default());
        assert_eq!(
            text,
            "HTTP 200 OK\ncontent-type: application/json\n\n{\"a\": \"\n[cut at 8 bytes: the body is longer]"
        );
    }

    #[test]
    fn binary_and_empty_bodies_are_described() {
        let binary = answer("image/png", &[0x89, 0xff, 0x00], false).render(&Redactor::default());
        assert!(
            binary.ends_with("\n\n[binary body: 3 bytes, image/png]"),
            "{binary}"
        );
        let mut empty = answer("text/plain", b"", false);
        empty.status = StatusCode::NO_CONTENT;
        assert_eq!(
            empty.render(&Redactor::default()),
            "HTTP 204 No Content\ncontent-type: text/plain\n\n[empty body]"
        );
    }

    #[test]
    fn json_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/Problem+JSON; charset=utf-8"));
        assert!(!is_json("text/json-ish"));
        assert!(!is_json("text/plain"));
    }
}
