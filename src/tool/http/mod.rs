//! HTTP tools: a [`DynamicTool`] that fills a request template from the model's arguments,
//! sends it on Baton's one HTTP client, and returns the status and body as text.
//!
//! An [`HttpToolSpec`] declares the tool (a topology's `kind: http` entry fills it);
//! [`HttpTool::new`] checks it, reporting every problem with its field, and resolves the
//! `{env:VAR}` secrets of its headers. Per call:
//!
//! - the scheme, host and port are the spec's; arguments fill path segments (each value one
//!   segment, percent-encoded), query values, header values and JSON body values only;
//! - the exchange runs on the shared HTTP runtime (never on a shard's thread), within the
//!   call's deadline, and stops when the call is cancelled;
//! - 4xx and 5xx answers are outputs the model reads; an idempotent tool retries 429/5xx,
//!   waiting what `Retry-After` asks when the deadline allows; redirects are not followed
//!   unless the spec allows it, and then only to the same origin;
//! - the body is read up to the spec's cap; the output reads
//!
//! ```text
//! HTTP 200 OK
//! content-type: application/json
//!
//! {
//!   "pretty": "JSON when the content type is JSON and the whole body was read"
//! }
//! ```
//!
//!   with `[cut at N bytes: the body is longer]` on a last line when the body was cut, and
//!   `[binary body: N bytes, <content-type>]` for a body that is not UTF-8;
//! - every secret (and every header value built from one) shows as `[redacted]` in outputs
//!   and errors, also when the server echoes it back.

mod check;
mod encode;
mod exchange;
mod pretty;
mod redact;
mod request;
mod response;
mod spec;

pub use spec::{HttpField, HttpSpecError, HttpToolSpec};

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{DynamicTool, ToolContext, ToolError, ToolOutput};
use crate::model::http;
use exchange::{Failure, Policy};
use redact::Redactor;
use request::RequestTemplate;

/// The response body cap used when a spec's `max_response_bytes` is 0: 1 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// An HTTP tool, built from a checked [`HttpToolSpec`]. Register it with
/// [`SwarmBuilder::dynamic_tool`](crate::swarm::SwarmBuilder::dynamic_tool).
///
/// Its `Debug` shows the templates and header names, never a secret.
pub struct HttpTool {
    /// The name the model calls it by.
    name: String,
    /// What it does, for the model.
    description: String,
    /// The JSON Schema of its arguments.
    parameters: Value,
    /// The URL template as written, for `Debug`.
    url: String,
    /// The request to fill in.
    request: RequestTemplate,
    /// The `{env:VAR}` values, removed from every text shown.
    secrets: Redactor,
    /// Cap, redirects and retries.
    policy: Policy,
}

impl HttpTool {
    /// Checks the spec and resolves `{env:VAR}` through `env` (the lead passes the
    /// topology's env lookup).
    ///
    /// # Errors
    ///
    /// Every problem at once, each naming its field: a bad method; a URL that is not http(s)
    /// or has a placeholder in its scheme, host or port; a template naming an argument not in
    /// `parameters.properties` (the hint lists the known names); unbalanced braces; a header
    /// whose `{env:VAR}` is unset (the message names the variable, never a value); an invalid
    /// header name; `parameters` that is not an object schema.
    pub fn new(
        spec: HttpToolSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HttpTool, Vec<HttpSpecError>> {
        let compiled = check::compile(&spec, env)?;
        let policy = Policy {
            cap: match spec.max_response_bytes {
                0 => DEFAULT_MAX_RESPONSE_BYTES,
                cap => cap,
            },
            follow_redirects: spec.follow_redirects,
            retries: if spec.idempotent { spec.retries } else { 0 },
            origin: compiled.request.origin.clone(),
        };
        Ok(HttpTool {
            name: spec.name,
            description: spec.description,
            parameters: spec.parameters,
            url: spec.url,
            request: compiled.request,
            secrets: compiled.secrets,
            policy,
        })
    }

    /// Runs one call: builds the request, runs the exchange on the HTTP runtime, renders
    /// the answer there too.
    async fn run(&self, arguments: Value, context: ToolContext) -> Result<ToolOutput, ToolError> {
        let built = self
            .request
            .build(&arguments, &self.secrets)
            .map_err(|message| ToolError::failed(&self.name, self.secrets.scrub(&message)))?;
        let timeout = context.remaining();
        let redactor = built.redactor;
        let (request, policy) = (built.request, self.policy.clone());
        let ended = tokio::select! {
            ended = http::spawn(async move {
                // The client is made on the HTTP runtime, never on the calling shard.
                let client = http::client()?;
                Ok(match exchange::run(client, request, policy, timeout).await {
                    Ok(answer) => Ok(answer.render(&redactor)),
                    Err(Failure::TimedOut) => Err(None),
                    Err(Failure::Connection { label, reason }) => {
                        Err(Some(redactor.scrub(&format!("{label}: {reason}"))))
                    }
                })
            }) => ended,
            () = context.cancelled() => {
                return Err(if context.remaining().is_zero() {
                    self.timed_out(timeout)
                } else {
                    ToolError::failed(&self.name, "the call was cancelled (its run ended)")
                });
            }
        };
        match ended {
            Ok(Ok(text)) => Ok(ToolOutput::Text(text)),
            Ok(Err(None)) => Err(self.timed_out(timeout)),
            Ok(Err(Some(message))) => Err(ToolError::failed(&self.name, message)),
            Err(e) => Err(ToolError::failed(
                &self.name,
                self.secrets.scrub(&e.to_string()),
            )),
        }
    }

    /// [`ToolError::TimedOut`] after `timeout`, in whole milliseconds rounded up (the call's
    /// timeout, as the caller counts it).
    fn timed_out(&self, timeout: Duration) -> ToolError {
        let millis = timeout.as_nanos().div_ceil(1_000_000);
        ToolError::TimedOut {
            tool: self.name.clone(),
            after: Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX)),
        }
    }
}

impl DynamicTool for HttpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.parameters.clone()
    }

    fn call(
        &self,
        arguments: Value,
        context: ToolContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin(self.run(arguments, context))
    }
}

impl fmt::Debug for HttpTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<&str> = self
            .request
            .headers
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        f.debug_struct("HttpTool")
            .field("name", &self.name)
            .field("method", &self.request.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("max_response_bytes", &self.policy.cap)
            .field("follow_redirects", &self.policy.follow_redirects)
            .field("retries", &self.policy.retries)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(url: &str, headers: &[(&str, &str)]) -> HttpTool {
        let spec = HttpToolSpec {
            name: "t".into(),
            parameters: json!({"type": "object", "properties": {
                "user": {}, "q": {}, "n": {}, "opt": {}, "obj": {}
            }}),
            method: "POST".into(),
            url: url.into(),
            query: vec![
                ("extra".into(), "{opt}".into()),
                ("n".into(), "a b{n}".into()),
            ],
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Some(
                json!({"user": "{user}", "opt": "{opt}", "text": "n={n}", "all": ["{obj}", "{opt}"]}),
            ),
            ..HttpToolSpec::default()
        };
        HttpTool::new(spec, &|v| (v == "TOKEN").then(|| "s3cret-token".to_owned())).unwrap()
    }

    fn build(tool: &HttpTool, args: Value) -> Result<reqwest::Request, String> {
        tool.request.build(&args, &tool.secrets).map(|b| b.request)
    }

    #[test]
    fn arguments_stay_inside_their_segment_and_value() {
        let t = tool("http://h:8/u/{user}/x?q={q}&fixed=1", &[]);
        let request = build(
            &t,
            json!({"user": "../a?b#c d/é", "q": "x&y=z+1 #", "n": 7}),
        )
        .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://h:8/u/..%2Fa%3Fb%23c%20d%2F%C3%A9/x?q=x%26y%3Dz%2B1%20%23&fixed=1&n=a%20b7"
        );
        assert_eq!(request.url().path_segments().unwrap().count(), 3);
    }

    #[test]
    fn dot_segments_are_refused_and_absent_path_arguments_named() {
        let t = tool("http://h/u/{user}", &[]);
        for value in [".", ".."] {
            let error = build(&t, json!({"user": value})).unwrap_err();
            assert!(error.contains("cannot be `.` or `..`"), "{error}");
        }
        assert_eq!(
            build(&t, json!({"user": "..."})).unwrap().url().path(),
            "/u/..."
        );
        let error = build(&t, json!({})).unwrap_err();
        assert!(
            error.contains("`user` is needed for the URL path"),
            "{error}"
        );
    }

    #[test]
    fn absent_arguments_drop_their_query_pair_header_and_body_key() {
        let t = tool("http://h/?q={q}", &[("X-Opt", "{opt}"), ("X-N", "n{n}")]);
        let request = build(&t, json!({"user": "u", "obj": {"k": [1]}, "n": null})).unwrap();
        assert_eq!(request.url().as_str(), "http://h/?n=a%20b");
        assert!(request.headers().get("x-opt").is_none());
        assert_eq!(request.headers()["x-n"], "n");
        assert_eq!(request.headers()["content-type"], "application/json");
        let body: Value =
            serde_json::from_slice(request.body().and_then(|b| b.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"user": "u", "text": "n=", "all": [{"k": [1]}]})
        );
    }

    #[test]
    fn secret_headers_are_sensitive_and_never_in_debug() {
        let t = tool("http://h/", &[("Authorization", "Bearer {env:TOKEN}")]);
        let request = build(&t, json!({})).unwrap();
        assert!(request.headers()["authorization"].is_sensitive());
        let shown = format!("{t:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("authorization"), "{shown}");
    }

    #[test]
    fn an_argument_with_a_line_break_cannot_forge_a_header() {
        let t = tool("http://h/", &[("X-User", "{user}")]);
        let error = build(&t, json!({"user": "a\r\nX-Admin: 1"})).unwrap_err();
        assert!(error.contains("header `x-user` invalid"), "{error}");
    }
}
