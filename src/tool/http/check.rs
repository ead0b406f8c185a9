//! Checks an [`HttpToolSpec`] and compiles it into a [`RequestTemplate`], reporting every
//! problem at once, each with its field (the YAML reader turns fields into file:line:col).

use reqwest::header::{HOST, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;

use super::redact::Redactor;
use super::request::{BodyTemplate, HeaderPiece, HeaderTemplate, QueryPair, RequestTemplate};
use super::spec::{HttpField, HttpSpecError, HttpToolSpec};
use crate::model::ApiKey;
use crate::tool::template::{Piece, Template};

/// A checked spec.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// The request, ready to be filled in.
    pub(crate) request: RequestTemplate,
    /// The `{env:VAR}` values.
    pub(crate) secrets: Redactor,
}

/// Checks `spec`, resolving `{env:VAR}` through `env`.
pub(crate) fn compile(
    spec: &HttpToolSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Compiled, Vec<HttpSpecError>> {
    let mut check = Checker::default();
    match argument_names(&spec.parameters) {
        Ok(names) => check.known = Some(names),
        Err(message) => check.error(HttpField::Parameters, message, None),
    }
    let method = check.method(&spec.method);
    let (url, mut query) = match check.url(&spec.url) {
        Some((origin, path, query)) => (Some((origin, path)), query),
        None => (None, Vec::new()),
    };
    for (name, value) in &spec.query {
        let field = HttpField::Query(name.clone());
        if name.is_empty() {
            check.error(
                field.clone(),
                "a query parameter needs a name".to_owned(),
                None,
            );
        }
        let what = format!("query parameter `{name}`");
        if let Some(value) = check.template(&field, &what, value, false) {
            query.push(QueryPair {
                name: Template::text(name),
                value: Some(value),
                encode_text: true,
            });
        }
    }
    let mut secrets = Redactor::default();
    let headers: Vec<HeaderTemplate> = spec
        .headers
        .iter()
        .filter_map(|(name, value)| check.header(name, value, env, &mut secrets))
        .collect();
    let body = spec.body.as_ref().map(|b| check.body(b));
    if !check.errors.is_empty() {
        return Err(check.errors);
    }
    match (method, url) {
        (Some(method), Some((origin, path))) => Ok(Compiled {
            request: RequestTemplate {
                method,
                origin,
                path,
                query,
                headers,
                body,
            },
            secrets,
        }),
        // Each `None` above recorded an error.
        _ => Err(check.errors),
    }
}

/// The names in `parameters.properties`, or why `parameters` is not an object schema.
fn argument_names(parameters: &Value) -> Result<Vec<String>, String> {
    let schema = parameters.as_object().ok_or(
        "parameters must be a JSON Schema object: {\"type\": \"object\", \"properties\": {...}}",
    )?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("parameters must be an object schema (`\"type\": \"object\"`)".to_owned());
    }
    match schema.get("properties") {
        None => Ok(Vec::new()),
        Some(Value::Object(properties)) => Ok(properties.keys().cloned().collect()),
        Some(_) => Err("parameters.properties must be an object".to_owned()),
    }
}

/// Collects problems while compiling.
#[derive(Debug, Default)]
struct Checker {
    /// The argument names (`None`: `parameters` is broken, so names are not checked).
    known: Option<Vec<String>>,
    /// Every problem so far.
    errors: Vec<HttpSpecError>,
}

impl Checker {
    fn error(&mut self, field: HttpField, message: String, hint: Option<String>) {
        self.errors.push(HttpSpecError {
            field,
            message,
            hint,
        });
    }

    fn method(&mut self, method: &str) -> Option<Method> {
        let upper = method.trim().to_ascii_uppercase();
        if ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&upper.as_str()) {
            return Method::from_bytes(upper.as_bytes()).ok();
        }
        self.error(
            HttpField::Method,
            format!("unknown HTTP method `{method}`"),
            Some("use GET, POST, PUT, PATCH, DELETE or HEAD".to_owned()),
        );
        None
    }

    /// Parses a template of `field` (`what` says which, in messages), checking that its
    /// arguments exist and that `{env:VAR}` appears only where `env` allows it.
    fn template(
        &mut self,
        field: &HttpField,
        what: &str,
        text: &str,
        env: bool,
    ) -> Option<Template> {
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(message) => {
                self.error(field.clone(), format!("{what}: {message}"), None);
                return None;
            }
        };
        let mut ok = true;
        for piece in template.pieces() {
            match piece {
                Piece::Arg(name) => {
                    if let Some(known) = &self.known
                        && !known.contains(name)
                    {
                        let hint = unknown_hint(name, known);
                        self.error(
                            field.clone(),
                            format!("{what}: `{{{name}}}` names no argument"),
                            Some(hint),
                        );
                        ok = false;
                    }
                }
                Piece::Env(var) if !env => {
                    self.error(
                        field.clone(),
                        format!("{what}: `{{env:{var}}}` is allowed only in a header value"),
                        Some(
                            "secrets never go in URLs or bodies: send them in a header".to_owned(),
                        ),
                    );
                    ok = false;
                }
                Piece::Env(_) | Piece::Text(_) => {}
            }
        }
        ok.then_some(template)
    }

    /// The URL's origin, path segments and query pairs.
    fn url(&mut self, url: &str) -> Option<(Url, Vec<Template>, Vec<QueryPair>)> {
        let field = HttpField::Url;
        let Some(scheme_end) = url.find("://") else {
            self.error(
                field,
                format!("`{url}` is not an absolute http(s) URL"),
                Some("write it as `https://host/path`".to_owned()),
            );
            return None;
        };
        let scheme = &url[..scheme_end];
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            self.error(
                field,
                format!("the URL's scheme `{scheme}` is not http or https"),
                None,
            );
            return None;
        }
        let authority = scheme_end + 3;
        let end = url[authority..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |at| authority + at);
        let origin_text = &url[..end];
        if origin_text.contains(['{', '}']) {
            self.error(
                field,
                format!("`{origin_text}`: no placeholder may be in the URL's scheme, host or port"),
                Some("the file fixes the host; arguments go in the path or query".to_owned()),
            );
            return None;
        }
        let origin = match Url::parse(origin_text) {
            Ok(origin) if origin.host_str().is_some_and(|h| !h.is_empty()) => origin,
            Ok(_) => {
                self.error(field, format!("`{origin_text}` has no host"), None);
                return None;
            }
            Err(e) => {
                self.error(
                    field,
                    format!("`{origin_text}` is not a valid URL: {e}"),
                    None,
                );
                return None;
            }
        };
        if !origin.username().is_empty() || origin.password().is_some() {
            self.error(
                field,
                "the URL holds credentials (`user:password@`)".to_owned(),
                Some("send them in a header with `{env:VAR}`".to_owned()),
            );
            return None;
        }
        let rest = self.template(&field, "URL", &url[end..], false)?;
        let mut parts = rest.split('#').into_iter();
        let before_fragment = parts.next().unwrap_or_default();
        if parts.next().is_some() {
            self.error(
                field,
                "the URL has a fragment (`#...`), which is never sent to a server".to_owned(),
                None,
            );
            return None;
        }
        let (path, query) = before_fragment.split_once('?');
        let path: Vec<Template> = path.split('/').into_iter().skip(1).collect();
        let query = query
            .map(|q| q.split('&'))
            .unwrap_or_default()
            .into_iter()
            .filter(|part| !part.pieces().is_empty())
            .map(|part| {
                let (name, value) = part.split_once('=');
                QueryPair {
                    name,
                    value,
                    encode_text: false,
                }
            })
            .collect();
        Some((origin, path, query))
    }

    fn header(
        &mut self,
        name: &str,
        value: &str,
        env: &dyn Fn(&str) -> Option<String>,
        secrets: &mut Redactor,
    ) -> Option<HeaderTemplate> {
        let field = HttpField::Header(name.to_owned());
        let header_name = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) if n == HOST => {
                self.error(
                    field.clone(),
                    "header `Host` comes from the URL".to_owned(),
                    None,
                );
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                self.error(
                    field.clone(),
                    format!("`{name}` is not a valid header name"),
                    Some("use letters, digits and `-`".to_owned()),
                );
                None
            }
        };
        let what = format!("header `{name}`");
        let template = self.template(&field, &what, value, true)?;
        let mut pieces = Vec::new();
        for piece in template.pieces() {
            match piece {
                Piece::Text(text) => {
                    if HeaderValue::from_str(text).is_err() {
                        self.error(
                            field.clone(),
                            format!("{what}: the value holds characters a header cannot hold (only visible ASCII, spaces and tabs)"),
                            None,
                        );
                    }
                    pieces.push(HeaderPiece::Text(text.clone()));
                }
                Piece::Arg(arg) => pieces.push(HeaderPiece::Arg(arg.clone())),
                Piece::Env(var) => match env(var)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                {
                    None => self.error(
                        field.clone(),
                        format!("{what}: environment variable `{var}` is unset or empty"),
                        Some(format!("set `{var}` in the environment Baton runs in")),
                    ),
                    Some(secret) if HeaderValue::from_str(&secret).is_err() => self.error(
                        field.clone(),
                        format!("{what}: environment variable `{var}` holds characters a header cannot hold"),
                        None,
                    ),
                    Some(secret) => {
                        secrets.add(&secret);
                        pieces.push(HeaderPiece::Secret(ApiKey::new(secret)));
                    }
                },
            }
        }
        Some(HeaderTemplate {
            name: header_name?,
            value: pieces,
        })
    }

    fn body(&mut self, body: &Value) -> BodyTemplate {
        match body {
            Value::String(text) => match self.template(&HttpField::Body, "body", text, false) {
                Some(t) => match t.sole_arg() {
                    Some(name) => BodyTemplate::Arg(name.to_owned()),
                    None => BodyTemplate::Text(t),
                },
                None => BodyTemplate::Value(Value::Null),
            },
            Value::Array(items) => {
                BodyTemplate::Array(items.iter().map(|i| self.body(i)).collect())
            }
            Value::Object(map) => {
                BodyTemplate::Object(map.iter().map(|(k, v)| (k.clone(), self.body(v))).collect())
            }
            other => BodyTemplate::Value(other.clone()),
        }
    }
}

/// The hint for an unknown argument: the closest known name, and all of them.
fn unknown_hint(name: &str, known: &[String]) -> String {
    if known.is_empty() {
        return "the tool has no arguments (parameters.properties is empty)".to_owned();
    }
    let closest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k);
    let all = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest {
        Some(k) => format!("did you mean `{k}`? the arguments are: {all}"),
        None => format!("the arguments are: {all}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(url: &str) -> HttpToolSpec {
        HttpToolSpec {
            name: "t".into(),
            parameters: json!({"type": "object", "properties": {"user": {}, "order": {}}}),
            method: "get".into(),
            url: url.into(),
            ..HttpToolSpec::default()
        }
    }

    fn errors(spec: &HttpToolSpec) -> Vec<HttpSpecError> {
        compile(spec, &|_| None).err().unwrap_or_default()
    }

    #[test]
    fn a_good_spec_compiles() {
        let mut good = spec("https://api.example.com:8443/v1/users/{user}/repos?sort={order}&x=1");
        good.query = vec![("page".into(), "{order}".into())];
        good.headers = vec![("Authorization".into(), "Bearer {env:TOKEN}".into())];
        good.body = Some(json!({"user": "{user}", "n": 1, "list": ["{order}", "x {user}"]}));
        let compiled = compile(&good, &|v| (v == "TOKEN").then(|| "abcdef".into())).unwrap();
        assert_eq!(compiled.request.method, Method::GET);
        assert_eq!(
            compiled.request.origin.as_str(),
            "https://api.example.com:8443/"
        );
        assert_eq!(compiled.request.path.len(), 4);
        assert_eq!(compiled.request.query.len(), 3);
        assert_eq!(compiled.secrets.scrub("x abcdef"), "x [redacted]");
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_field() {
        let mut bad = spec("https://{user}.example.com/x");
        bad.method = "FETCH".into();
        bad.parameters = json!({"type": "array"});
        bad.headers = vec![
            ("Bad Name".into(), "x".into()),
            ("X-Token".into(), "{env:MISSING_TOKEN}".into()),
        ];
        bad.query = vec![("q".into(), "{oops".into())];
        bad.body = Some(json!({"k": "{env:SECRET}"}));
        let found = errors(&bad);
        let fields: Vec<&HttpField> = found.iter().map(|e| &e.field).collect();
        assert_eq!(
            fields,
            [
                &HttpField::Parameters,
                &HttpField::Method,
                &HttpField::Url,
                &HttpField::Query("q".into()),
                &HttpField::Header("Bad Name".into()),
                &HttpField::Header("X-Token".into()),
                &HttpField::Body,
            ],
            "{found:#?}"
        );
        assert!(
            found[5].message.contains("`MISSING_TOKEN` is unset"),
            "{found:?}"
        );
    }

    #[test]
    fn an_unknown_argument_gets_the_known_names_and_a_guess() {
        let found = errors(&spec("https://h/users/{usr}"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "URL: `{usr}` names no argument");
        assert_eq!(
            found[0].hint.as_deref(),
            Some("did you mean `user`? the arguments are: `order`, `user`")
        );
    }

    #[test]
    fn urls_must_be_http_with_a_fixed_host_and_no_fragment_or_credentials() {
        for (url, says) in [
            ("ftp://h/x", "not http or https"),
            ("h/x", "not an absolute"),
            ("https://h:{order}/x", "scheme, host or port"),
            ("https://u:p@h/x", "credentials"),
            ("https://h/x#{user}", "fragment"),
            ("https://h/x?{env:T}", "only in a header"),
            ("https://h/{user", "unbalanced"),
        ] {
            let found = errors(&spec(url));
            assert_eq!(found.len(), 1, "{url}: {found:?}");
            assert!(found[0].message.contains(says), "{url}: {found:?}");
        }
    }

    #[test]
    fn an_environment_value_a_header_cannot_hold_is_named_not_shown() {
        let mut bad = spec("https://h/");
        bad.headers = vec![("X-Key".into(), "{env:KEY}".into())];
        let found = compile(&bad, &|_| Some("line\nbreak-secret".into())).unwrap_err();
        assert!(found[0].message.contains("`KEY`"));
        assert!(!format!("{found:?}").contains("break-secret"));
    }
}
