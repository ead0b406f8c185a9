//! The `http` kind: a tool that makes one HTTP request from a template filled with the
//! call's arguments (`baton::tool::http`). The file fixes the method, the host and what may
//! vary; the model only fills in values.
//!
//! ```yaml
//! - name: service_status
//!   description: The status of one of our services.
//!   parameters:
//!     type: object
//!     properties: { service: { type: string } }
//!     required: [service]
//!   http:
//!     method: GET
//!     url: "https://status.example.com/v1/services/{service}"
//!     headers: { Authorization: "Bearer {env:STATUS_TOKEN}" }
//!   timeout: 5s
//!   idempotent: true
//!   retries: 2
//! ```

use std::sync::Arc;

use schemars::JsonSchema;

use super::bytes::Bytes;
use super::parameters::{RawSignature, StringMap, interpolated_headers};
use super::{Agents, Declared, Kind, RawToolOptions, Start, dynamic_start};
use crate::tool::http::{DEFAULT_MAX_RESPONSE_BYTES, HttpField, HttpTool, HttpToolSpec};
use crate::topology::diagnostic::{Place, Problems};
use crate::topology::read::{Fields, FromNode, Located, Reader, Retries};
use crate::topology::tree::Node;

pub(super) const KIND: Kind = Kind {
    key: "http",
    read,
    schema: |generator| generator.subschema_for::<RawHttpTool>(),
};

/// A tool that makes an HTTP request.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttpTool {
    #[serde(flatten)]
    signature: RawSignature,
    /// The request.
    #[schemars(required)]
    http: Option<RawRequest>,
    #[serde(flatten)]
    options: RawToolOptions,
    /// The checked tool (`None` if the file has a problem, already reported).
    #[serde(skip)]
    tool: Option<Arc<HttpTool>>,
}

/// An HTTP tool's request.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD` (default `GET`).
    method: Option<Located<String>>,
    /// The URL, with `{name}` where an argument goes, in the path or the query only (the host
    /// is the file's). Values are percent-encoded.
    #[schemars(required)]
    url: Option<Located<String>>,
    /// More query parameters: name -> value template; one that is exactly `{name}` is left out
    /// when that argument is.
    query: Option<StringMap>,
    /// Headers: name -> value template. `{env:VAR}` is the value of an environment variable,
    /// read when the topology loads and never shown: outputs, traces and errors say
    /// `[redacted]`.
    headers: Option<StringMap>,
    /// A JSON body: a string that is exactly `{name}` becomes that argument's JSON value.
    body: Option<Located<serde_json::Value>>,
    /// The most of an answer's body read (default `1MiB`); a longer body is cut, with a note.
    max_response_bytes: Option<Bytes>,
    /// Redirects followed, to the same host only (default 0: the 3xx answer is the output).
    follow_redirects: Option<Retries>,
}

fn read(mut f: Fields<'_, '_, '_>) -> Option<Box<dyn Declared>> {
    let signature = RawSignature::read(&mut f);
    let http = match f.node("http") {
        Some(node) => RawRequest::read(node, f.reader),
        None => {
            let _ = f.required::<RawRequest>("http");
            None
        }
    };
    let options = RawToolOptions::read(&mut f);
    let mut tool = RawHttpTool {
        signature,
        http,
        options,
        tool: None,
    };
    tool.tool = build(&tool, f.reader);
    f.finish();
    Some(Box::new(tool))
}

impl FromNode for RawRequest {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "an HTTP request")?;
        let interpolated = interpolated_headers(&mut f);
        let request = RawRequest {
            method: f.get("method"),
            url: f.required("url"),
            query: f.get("query"),
            headers: if interpolated { None } else { f.get("headers") },
            body: f.get("body"),
            max_response_bytes: f.get("max_response_bytes"),
            follow_redirects: f.get("follow_redirects"),
        };
        f.finish();
        Some(request)
    }
}

/// Builds the tool, reporting each problem of the spec at the field it comes from.
fn build(raw: &RawHttpTool, r: &mut Reader<'_>) -> Option<Arc<HttpTool>> {
    let (Some(name), Some(request)) = (&raw.signature.name, &raw.http) else {
        return None;
    };
    let url = request.url.as_ref()?;
    let pairs = |map: &Option<StringMap>| -> Vec<(String, String)> {
        map.iter()
            .flat_map(|m| &m.entries)
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect()
    };
    let spec = HttpToolSpec {
        name: name.value.clone(),
        description: raw.signature.description.clone().unwrap_or_default(),
        parameters: raw.signature.schema(),
        method: request
            .method
            .as_ref()
            .map_or_else(|| "GET".to_owned(), |m| m.value.clone()),
        url: url.value.clone(),
        query: pairs(&request.query),
        headers: pairs(&request.headers),
        body: request.body.as_ref().map(|b| b.value.clone()),
        max_response_bytes: request
            .max_response_bytes
            .map_or(DEFAULT_MAX_RESPONSE_BYTES, |b| b.0),
        follow_redirects: request.follow_redirects.map_or(0, |n| n.0),
        idempotent: raw.options.idempotent.unwrap_or(false),
        retries: raw.options.retries.as_ref().map_or(0, |n| n.value.0),
    };
    let env = r.env();
    match HttpTool::new(spec, &|var| env.secret(var)) {
        Ok(tool) => Some(Arc::new(tool)),
        Err(problems) => {
            for problem in problems {
                let at = place_of(&problem.field, raw, request, &name.at);
                r.problems.error(
                    &at,
                    format!("tool `{}`: {}", name.value, problem.message),
                    problem.hint,
                );
            }
            None
        }
    }
}

/// Where the field a problem names is written.
fn place_of(field: &HttpField, raw: &RawHttpTool, request: &RawRequest, name: &Place) -> Place {
    let entry = |map: &Option<StringMap>, key: &str| {
        map.iter()
            .flat_map(|m| &m.entries)
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v.at.clone())
    };
    let at = match field {
        HttpField::Method => request.method.as_ref().map(|m| m.at.clone()),
        HttpField::Url => request.url.as_ref().map(|u| u.at.clone()),
        HttpField::Query(key) => entry(&request.query, key),
        HttpField::Header(key) => entry(&request.headers, key),
        HttpField::Body => request.body.as_ref().map(|b| b.at.clone()),
        HttpField::Parameters => raw.signature.schema_at().cloned(),
    };
    at.unwrap_or_else(|| name.clone())
}

impl Declared for RawHttpTool {
    fn name(&self) -> Option<&Located<String>> {
        self.signature.name.as_ref()
    }

    fn options(&self) -> &RawToolOptions {
        &self.options
    }

    fn resolve(&self, _: &mut Problems, _: &Agents<'_>) -> Option<Arc<dyn Start>> {
        dynamic_start(self.tool.as_ref())
    }
}
