//! `RequestTemplate`: an HTTP tool's request as checked at start-up (method, fixed origin,
//! path and query templates, headers with their secrets resolved, JSON body template), and
//! how one call's arguments fill it into a `reqwest::Request`.
//!
//! Arguments only ever land inside a path segment, a query name or value, a header value or
//! a JSON body value, percent-encoded where that matters ([`super::encode`]); the scheme, host
//! and port are the file's.

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;

use super::encode::{push_encoded, value_text};
use super::redact::Redactor;
use crate::model::ApiKey;
use crate::tool::template::{Piece, Template};

/// The request of an HTTP tool, ready to be filled in.
#[derive(Debug)]
pub(crate) struct RequestTemplate {
    /// The method.
    pub(crate) method: Method,
    /// `scheme://host:port`, fixed by the file.
    pub(crate) origin: Url,
    /// The path's segments after its leading `/` (none: the path is `/`).
    pub(crate) path: Vec<Template>,
    /// The query's pairs: the URL's own, then the spec's `query` list.
    pub(crate) query: Vec<QueryPair>,
    /// The headers, in order.
    pub(crate) headers: Vec<HeaderTemplate>,
    /// The JSON body, if any.
    pub(crate) body: Option<BodyTemplate>,
}

/// One `name=value` of the query.
#[derive(Debug)]
pub(crate) struct QueryPair {
    /// The name.
    pub(crate) name: Template,
    /// The value (`None`: a bare `name`).
    pub(crate) value: Option<Template>,
    /// Whether the literal text is plain text to encode (the `query` list) rather than URL
    /// syntax as written in the URL template.
    pub(crate) encode_text: bool,
}

/// A header: its name and its value's pieces.
#[derive(Debug)]
pub(crate) struct HeaderTemplate {
    /// The name (checked).
    pub(crate) name: HeaderName,
    /// The value's pieces.
    pub(crate) value: Vec<HeaderPiece>,
}

/// A piece of a header value.
#[derive(Debug)]
pub(crate) enum HeaderPiece {
    /// Literal text.
    Text(String),
    /// An argument's text.
    Arg(String),
    /// An environment variable's value, resolved at start-up; never shown.
    Secret(ApiKey),
}

/// The JSON body template.
#[derive(Debug)]
pub(crate) enum BodyTemplate {
    /// A string that is exactly `{arg}`: the argument's JSON value (absent: left out).
    Arg(String),
    /// Any other string: interpolated text.
    Text(Template),
    /// An array of templates.
    Array(Vec<BodyTemplate>),
    /// An object of templates (keys are literal).
    Object(Vec<(String, BodyTemplate)>),
    /// A number, boolean or null, as it is.
    Value(Value),
}

/// A filled-in request and the secrets it carries.
#[derive(Debug)]
pub(crate) struct Built {
    /// The request.
    pub(crate) request: reqwest::Request,
    /// The tool's secrets plus the header values built from them.
    pub(crate) redactor: Redactor,
}

impl RequestTemplate {
    /// Fills in the request for `args` (already checked against the tool's schema). The error
    /// is for the model: an argument a URL or header cannot hold.
    pub(crate) fn build(&self, args: &Value, secrets: &Redactor) -> Result<Built, String> {
        let arg = |name: &str| args.get(name).and_then(value_text);
        let mut url = self.origin.as_str().trim_end_matches('/').to_owned();
        url.push('/');
        for (index, segment) in self.path.iter().enumerate() {
            if index > 0 {
                url.push('/');
            }
            let start = url.len();
            for piece in segment.pieces() {
                match piece {
                    Piece::Text(text) => url.push_str(text),
                    Piece::Arg(name) => match arg(name) {
                        Some(text) => push_encoded(&mut url, &text),
                        None => {
                            return Err(format!(
                                "argument `{name}` is needed for the URL path, and it is absent"
                            ));
                        }
                    },
                    Piece::Env(_) => {}
                }
            }
            if segment.has_placeholders() && matches!(&url[start..], "." | "..") {
                return Err(format!(
                    "the URL path segment `{}` cannot be `.` or `..` (a URL would resolve it)",
                    &url[start..]
                ));
            }
        }
        let mut separator = '?';
        for pair in &self.query {
            let absent = |t: &Template| t.sole_arg().is_some_and(|a| arg(a).is_none());
            if absent(&pair.name) || pair.value.as_ref().is_some_and(absent) {
                continue;
            }
            url.push(separator);
            separator = '&';
            fill_query(&mut url, &pair.name, pair.encode_text, &arg);
            if let Some(value) = &pair.value {
                url.push('=');
                fill_query(&mut url, value, pair.encode_text, &arg);
            }
        }
        let url = Url::parse(&url).map_err(|e| format!("the URL is invalid: {e}"))?;
        if url.origin() != self.origin.origin() {
            return Err("the arguments would change the URL's host".to_owned());
        }

        let mut request = reqwest::Request::new(self.method.clone(), url);
        let mut redactor = secrets.clone();
        for header in &self.headers {
            if let [HeaderPiece::Arg(name)] = header.value.as_slice()
                && arg(name).is_none()
            {
                continue;
            }
            let mut text = String::new();
            let mut secret = false;
            for piece in &header.value {
                match piece {
                    HeaderPiece::Text(t) => text.push_str(t),
                    HeaderPiece::Arg(name) => text.push_str(&arg(name).unwrap_or_default()),
                    HeaderPiece::Secret(key) => {
                        secret = true;
                        text.push_str(key.expose());
                    }
                }
            }
            let mut value = HeaderValue::from_str(&text).map_err(|_| {
                format!(
                    "the arguments make header `{}` invalid: a header value holds only visible ASCII, spaces and tabs (no line breaks, no control or non-ASCII characters)",
                    header.name
                )
            })?;
            if secret {
                value.set_sensitive(true);
                redactor.add(&text);
            }
            request.headers_mut().append(header.name.clone(), value);
        }
        if let Some(body) = self.body.as_ref().and_then(|b| fill_body(b, args)) {
            if !request.headers().contains_key(CONTENT_TYPE) {
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            *request.body_mut() = Some(body.to_string().into());
        }
        Ok(Built { request, redactor })
    }
}

/// Appends a query name or value: arguments encoded, literal text as written (or encoded too,
/// for the `query` list's plain text); an absent argument as nothing.
fn fill_query<'a>(
    url: &mut String,
    template: &Template,
    encode_text: bool,
    arg: &impl Fn(&str) -> Option<std::borrow::Cow<'a, str>>,
) {
    for piece in template.pieces() {
        match piece {
            Piece::Text(text) if encode_text => push_encoded(url, text),
            Piece::Text(text) => url.push_str(text),
            Piece::Arg(name) => push_encoded(url, &arg(name).unwrap_or_default()),
            Piece::Env(_) => {}
        }
    }
}

/// The body for `args`: `None` when it is exactly an absent argument.
fn fill_body(template: &BodyTemplate, args: &Value) -> Option<Value> {
    match template {
        BodyTemplate::Arg(name) => args.get(name).cloned(),
        BodyTemplate::Text(text) => {
            let mut out = String::new();
            for piece in text.pieces() {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Arg(name) => {
                        out.push_str(&args.get(name).and_then(value_text).unwrap_or_default());
                    }
                    Piece::Env(_) => {}
                }
            }
            Some(Value::String(out))
        }
        BodyTemplate::Array(items) => Some(Value::Array(
            items.iter().filter_map(|i| fill_body(i, args)).collect(),
        )),
        BodyTemplate::Object(entries) => Some(Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), fill_body(v, args)?)))
                .collect(),
        )),
        BodyTemplate::Value(value) => Some(value.clone()),
    }
}

/// `METHOD scheme://host:port/path` of `url`: what errors show (never the query, which may
/// carry arguments the server treats as secret, nor user info).
pub(crate) fn label(method: &Method, url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    format!("{method} {shown}")
}
