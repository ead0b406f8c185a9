//! `HttpToolSpec`: an HTTP tool as declared (a YAML `kind: http` entry fills it; Rust users
//! may too), and `HttpSpecError`: what is wrong with one, naming the field.

/// An HTTP tool as declared (YAML fills this; Rust users may too).
///
/// An argument's text is the string itself, or the JSON text of a number, boolean, object or
/// array; a `null` argument counts as absent.
///
/// # Examples
///
/// ```
/// use baton::tool::http::{HttpTool, HttpToolSpec};
/// use serde_json::json;
///
/// let spec = HttpToolSpec {
///     name: "repos".into(),
///     description: "Lists a user's repositories.".into(),
///     parameters: json!({
///         "type": "object",
///         "properties": {"user": {"type": "string"}, "order": {"type": "string"}},
///         "required": ["user"],
///     }),
///     method: "GET".into(),
///     url: "https://api.example.com/v1/users/{user}/repos?sort={order}".into(),
///     headers: vec![("Authorization".into(), "Bearer {env:API_TOKEN}".into())],
///     max_response_bytes: 1024 * 1024,
///     ..HttpToolSpec::default()
/// };
/// let env = |name: &str| (name == "API_TOKEN").then(|| "t0ken-value".to_owned());
/// let tool = HttpTool::new(spec, &env).expect("a valid spec");
/// assert!(!format!("{tool:?}").contains("t0ken-value"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct HttpToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema (an object schema) of the arguments.
    pub parameters: serde_json::Value,
    /// GET, POST, PUT, PATCH, DELETE, HEAD (case-insensitive).
    pub method: String,
    /// URL template: `https://api.example.com/v1/users/{user}/repos?sort={order}`. `{name}` only
    /// in the path and query (never in scheme/host/port: the host is fixed by the file).
    /// `{{`/`}}` are literal braces. A path placeholder fills one path segment; a query pair
    /// whose value is exactly `{arg}` is left out when the argument is absent.
    pub url: String,
    /// Extra query parameters: name -> value template; a parameter whose template is exactly
    /// `{arg}` and whose argument is absent is left out. Names and literal text are plain
    /// text (encoded when sent).
    pub query: Vec<(String, String)>,
    /// Headers: name -> value template; `{arg}` from arguments, `{env:VAR}` from the
    /// environment (resolved in [`HttpTool::new`](super::HttpTool::new), trimmed, never shown
    /// anywhere: outputs, errors, Debug). A header whose template is exactly `{arg}` is left out when
    /// the argument is absent.
    pub headers: Vec<(String, String)>,
    /// JSON body template: a string that is exactly `{arg}` becomes the argument's JSON value
    /// (absent -> the key is dropped), other strings are interpolated. Sent with
    /// `content-type: application/json` unless a header says otherwise.
    pub body: Option<serde_json::Value>,
    /// Cap on the response body read (default used by the lead: 1 MiB); 0 means
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](super::DEFAULT_MAX_RESPONSE_BYTES).
    pub max_response_bytes: usize,
    /// Redirects followed (default 0 = not followed; the 3xx is the output). When > 0, only to
    /// the same scheme+host+port.
    pub follow_redirects: u32,
    /// Retry 429/5xx (honouring Retry-After, bounded by the call's deadline) up to `retries`
    /// times; only when `idempotent`.
    pub idempotent: bool,
    /// Extra attempts after a 429 or 5xx answer, for idempotent tools.
    pub retries: u32,
}

/// A problem with an [`HttpToolSpec`], found by [`HttpTool::new`](super::HttpTool::new).
///
/// Its message never holds an environment variable's value, only its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HttpSpecError {
    /// The field at fault.
    pub field: HttpField,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say (the known argument names, say).
    pub hint: Option<String>,
}

/// Which field of an [`HttpToolSpec`] an [`HttpSpecError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpField {
    /// `method`.
    Method,
    /// `url`.
    Url,
    /// The `query` entry with this name.
    Query(String),
    /// The `headers` entry with this name.
    Header(String),
    /// `body`.
    Body,
    /// `parameters`.
    Parameters,
}
