//! Secrets in the shapes they hide in: credentials in `OPENAI_BASE_URL`
//! (`http://user:key@host`) never show in the live line, errors or traces of `baton run`;
//! a key an API echoes URL-encoded (`sk%2D...`, either hex case) is redacted like the plain one.
//! See: issue 9

use std::process::{Command, Output};

use baton::mock::{Fault, MockServer};

use crate::http_support::{ANSWER, KEY, QUESTION, fixture};

/// The password put in the base URL.
const URL_SECRET: &str = "pw-url-secret-93c1";

fn baton_run(base_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["run", "tests/fixtures/http/math.yaml", QUESTION])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", base_url)
        .env("RUST_LOG", "trace")
        .output()
        .expect("the baton binary runs")
}

fn all(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn credentials_in_the_base_url_show_nowhere() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let plain = server.base_url();
    let with_user = plain.replacen("http://", &format!("http://user:{URL_SECRET}@"), 1);
    let out = baton_run(&with_user);
    let shown = all(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains(ANSWER), "{shown}");
    assert!(
        shown.contains(&format!(
            "baton: live: model `fast`: responses `gpt-4.1-mini` at {plain}\n"
        )),
        "{shown}"
    );
    assert!(
        !shown.contains(URL_SECRET),
        "the password shows in:\n{shown}"
    );
    assert!(!shown.contains("user:"), "the user shows in:\n{shown}");

    // Failing: the error's `POST <url>` has no credentials either.
    server.inject(Fault::status(400));
    let out = baton_run(&with_user);
    let shown = all(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(&format!("POST {plain}/responses: HTTP 400")),
        "{shown}"
    );
    assert!(
        !shown.contains(URL_SECRET),
        "the password shows in:\n{shown}"
    );
}

#[test]
fn a_key_the_api_echoes_url_encoded_is_redacted() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let upper = KEY.replace('-', "%2D");
    let lower = KEY.replace('-', "%2d");
    let every_byte: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    server.inject(Fault::Status {
        status: 401,
        retry_after: None,
        message: Some(format!(
            "Incorrect API key provided: {upper}; also {lower} and {every_byte}."
        )),
    });
    let out = baton_run(&server.base_url());
    let shown = all(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("Incorrect API key provided: [redacted]; also [redacted] and [redacted]."),
        "{shown}"
    );
    for form in [KEY, upper.as_str(), lower.as_str(), every_byte.as_str()] {
        assert!(!shown.contains(form), "`{form}` shows in:\n{shown}");
    }
}
