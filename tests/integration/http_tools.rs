//! HTTP tools (issue 10, item 2) against a real HTTP server on 127.0.0.1 that records the raw
//! request target and headers of every hit: arguments stay inside their path segment or query
//! value, secrets from the environment never show, timeouts, the body cap, retries of 500 and
//! `Retry-After` only for idempotent tools, redirects not followed, and a full run through a
//! `Swarm` with a scripted model.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::http::{HttpTool, HttpToolSpec};
use baton::tool::{DynamicTool, ToolContext, ToolError, ToolOptions};
use baton::{Agent, Swarm};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{self, output_of};

// ===== the server =====

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Hit {
    /// The request line's target, exactly as sent (`/a%2Fb?q=1`).
    target: String,
    /// The headers, names lowercased.
    headers: Vec<(String, String)>,
    /// The body, as text.
    body: String,
}

/// What the server answers.
enum Reply {
    /// A status, headers and a body.
    Answer(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Never answers (holds the connection for a minute).
    Stall,
    /// `200 text/plain` with a body of this many `x`s, written in 64 KiB chunks.
    Big(usize),
}

/// A server that answers every request with `reply(hit, hit_number)` (counting from 0).
struct Server {
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// Every request, in order.
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Server {
    async fn start(reply: impl Fn(&Hit, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let recorded = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (reply, recorded) = (Arc::clone(&reply), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let _ = serve(stream, &*reply, &recorded).await;
                });
            }
        });
        Server { base, hits }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn targets(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.target).collect()
    }
}

/// Serves one request on `stream`, then closes it.
async fn serve(
    mut stream: TcpStream,
    reply: &(dyn Fn(&Hit, usize) -> Reply + Send + Sync),
    recorded: &Mutex<Vec<Hit>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_default()
        .to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0_u8; length];
    stream.read_exact(&mut body).await?;
    let hit = Hit {
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let number = {
        let mut hits = recorded.lock().unwrap_or_else(PoisonError::into_inner);
        hits.push(hit.clone());
        hits.len() - 1
    };
    match reply(&hit, number) {
        Reply::Answer(status, headers, body) => {
            let mut out = format!("HTTP/1.1 {status} Whatever\r\nconnection: close\r\n");
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Stall => tokio::time::sleep(Duration::from_secs(60)).await,
        Reply::Big(len) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: {len}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < len {
                let n = chunk.len().min(len - sent);
                stream.write_all(&chunk[..n]).await?;
                sent += n;
            }
        }
    }
    stream.shutdown().await
}

/// A plain `200 text/plain` answer.
fn ok(text: &str) -> Reply {
    Reply::Answer(
        200,
        vec![("content-type", "text/plain".to_owned())],
        text.as_bytes().to_vec(),
    )
}

// ===== the tools =====

/// A GET tool named `fetch` for `url`, with string arguments `path` and `q`.
fn spec(url: String) -> HttpToolSpec {
    HttpToolSpec {
        name: "fetch".into(),
        description: "Fetches a thing.".into(),
        parameters: json!({
            "type": "object",
            "properties": {"path": {"type": "string"}, "q": {"type": "string"}},
        }),
        method: "GET".into(),
        url,
        max_response_bytes: 1024 * 1024,
        ..HttpToolSpec::default()
    }
}

fn tool(spec: HttpToolSpec) -> HttpTool {
    HttpTool::new(spec, &|_| None).expect("a valid spec")
}

/// Calls `tool` directly with `args`, as its worker would, with `timeout`.
async fn call(tool: &HttpTool, args: Value, timeout: Duration) -> Result<String, ToolError> {
    let context = ToolContext::detached("call_1", timeout);
    tool.call(args, context).await.map(|o| o.into_text())
}

const TIME: Duration = Duration::from_secs(10);

// ===== templates and encoding =====

#[tokio::test]
async fn dots_slashes_delimiters_and_non_ascii_stay_inside_their_segment_and_value() {
    let server = Server::start(|_, _| ok("fine")).await;
    let fetch = tool(spec(format!(
        "{}/files/{{path}}/raw?q={{q}}&v=1",
        server.base
    )));

    let output = call(
        &fetch,
        json!({"path": "../../admin?x=1#top é", "q": "a&b=c+d #é/?"}),
        TIME,
    )
    .await
    .expect("an answer");

    assert_eq!(output, "HTTP 200 OK\ncontent-type: text/plain\n\nfine");
    assert_eq!(
        server.targets(),
        ["/files/..%2F..%2Fadmin%3Fx%3D1%23top%20%C3%A9/raw?q=a%26b%3Dc%2Bd%20%23%C3%A9%2F%3F&v=1"]
    );
}

#[tokio::test]
async fn a_path_argument_of_dot_dot_is_refused_and_never_sent() {
    let server = Server::start(|_, _| ok("fine")).await;
    let fetch = tool(spec(format!("{}/files/{{path}}", server.base)));

    let error = call(&fetch, json!({"path": ".."}), TIME).await.unwrap_err();

    assert_eq!(
        error.to_output(),
        "error: tool `fetch` failed: the URL path segment `..` cannot be `.` or `..` (a URL would resolve it)"
    );
    assert!(server.targets().is_empty());
}

#[tokio::test]
async fn an_absent_optional_query_argument_drops_its_pair() {
    let server = Server::start(|_, _| ok("fine")).await;
    let fetch = tool(spec(format!("{}/search?q={{q}}&v=1", server.base)));

    call(&fetch, json!({}), TIME).await.expect("an answer");

    assert_eq!(server.targets(), ["/search?v=1"]);
}

#[tokio::test]
async fn a_json_body_template_takes_argument_values_and_drops_absent_ones() {
    let server = Server::start(|_, _| Reply::Answer(201, Vec::new(), Vec::new())).await;
    let mut post = spec(format!("{}/things", server.base));
    post.method = "post".into();
    post.body = Some(json!({"name": "{path}", "note": "q is {q}!", "q": "{q}", "n": 1}));
    let post = tool(post);

    let output = call(&post, json!({"path": "a \"quoted\" name"}), TIME)
        .await
        .expect("an answer");

    assert_eq!(output, "HTTP 201 Created\n\n[empty body]");
    let hit = &server.hits()[0];
    assert!(
        hit.headers
            .contains(&("content-type".to_owned(), "application/json".to_owned())),
        "{hit:?}"
    );
    let body: Value = serde_json::from_str(&hit.body).expect("a JSON body");
    assert_eq!(
        body,
        json!({"name": "a \"quoted\" name", "note": "q is !", "n": 1})
    );
}

// ===== secrets =====

#[tokio::test]
async fn a_header_from_the_environment_echoed_back_shows_as_redacted() {
    // The server echoes every request header, in its body and in a response header.
    let server = Server::start(|hit, _| {
        let echoed: serde_json::Map<String, Value> = hit
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let auth = hit
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Reply::Answer(
            401,
            vec![
                ("content-type", "application/json".to_owned()),
                ("location", format!("/login?was={auth}")),
            ],
            Value::Object(echoed).to_string().into_bytes(),
        )
    })
    .await;
    let mut with_secret = spec(format!("{}/me", server.base));
    with_secret.headers = vec![
        ("Authorization".into(), "Bearer {env:API_TOKEN}".into()),
        ("X-Api-Key".into(), "{env:API_TOKEN}".into()),
    ];
    let env = |name: &str| (name == "API_TOKEN").then(|| "tok-SECRET-12345".to_owned());
    let fetch = HttpTool::new(with_secret, &env).expect("a valid spec");

    let output = call(&fetch, json!({}), TIME).await.expect("an answer");

    let hits = server.hits();
    assert!(
        hits[0]
            .headers
            .contains(&("x-api-key".to_owned(), "tok-SECRET-12345".to_owned())),
        "the secret was sent: {hits:?}"
    );
    assert!(!output.contains("SECRET"), "{output}");
    assert!(output.starts_with("HTTP 401 Unauthorized\n"), "{output}");
    assert!(
        output.contains("location: /login?was=[redacted]\n"),
        "{output}"
    );
    assert!(
        output.contains("\"authorization\": \"[redacted]\""),
        "{output}"
    );
    assert!(output.contains("\"x-api-key\": \"[redacted]\""), "{output}");
    assert!(!format!("{fetch:?}").contains("SECRET"));
}

#[tokio::test]
async fn a_connection_error_names_the_url_without_its_query() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address").port()
    };
    let fetch = tool(spec(format!("http://127.0.0.1:{port}/x/{{path}}?q={{q}}")));

    let error = call(&fetch, json!({"path": "p", "q": "private-query"}), TIME)
        .await
        .unwrap_err();

    let text = error.to_output();
    assert!(
        text.starts_with(&format!(
            "error: tool `fetch` failed: GET http://127.0.0.1:{port}/x/p: "
        )),
        "{text}"
    );
    assert!(!text.contains("private-query"), "{text}");
}

// ===== time and size =====

#[tokio::test]
async fn a_server_slower_than_the_timeout_gives_a_timeout_error() {
    let server = Server::start(|_, _| Reply::Stall).await;
    let fetch = tool(spec(format!("{}/slow", server.base)));

    let error = call(&fetch, json!({}), Duration::from_millis(300))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        ToolError::TimedOut {
            tool: "fetch".into(),
            after: Duration::from_millis(300)
        }
    );
    assert_eq!(server.targets(), ["/slow"]);
}

#[tokio::test]
async fn a_10_mb_body_is_cut_at_the_cap_with_a_note() {
    let server = Server::start(|_, _| Reply::Big(10 * 1024 * 1024)).await;
    let mut capped = spec(format!("{}/big", server.base));
    capped.max_response_bytes = 64 * 1024;
    let fetch = tool(capped);

    let output = call(&fetch, json!({}), TIME).await.expect("an answer");

    let (head, rest) = output.split_once("\n\n").expect("a head and a body");
    assert_eq!(head, "HTTP 200 OK\ncontent-type: text/plain");
    let (body, note) = rest.rsplit_once('\n').expect("a note line");
    assert_eq!(body.len(), 64 * 1024);
    assert!(body.bytes().all(|b| b == b'x'));
    assert_eq!(note, "[cut at 65536 bytes: the body is longer]");
}

// ===== retries and redirects =====

/// A tool for `url` with these retry settings.
fn retrying(url: String, idempotent: bool, retries: u32) -> HttpTool {
    let mut spec = spec(url);
    spec.idempotent = idempotent;
    spec.retries = retries;
    tool(spec)
}

#[tokio::test]
async fn a_500_is_retried_only_when_the_tool_is_idempotent() {
    let server = Server::start(|_, _| {
        Reply::Answer(500, vec![("retry-after", "0".to_owned())], b"boom".to_vec())
    })
    .await;

    let once = retrying(format!("{}/once", server.base), false, 2);
    let output = call(&once, json!({}), TIME).await.expect("an answer");
    assert_eq!(
        output,
        "HTTP 500 Internal Server Error\nretry-after: 0\n\nboom"
    );
    assert_eq!(server.targets(), ["/once"]);

    let again = retrying(format!("{}/again", server.base), true, 2);
    let output = call(&again, json!({}), TIME).await.expect("an answer");
    assert_eq!(
        output,
        "HTTP 500 Internal Server Error\nretry-after: 0\n\nboom"
    );
    assert_eq!(server.targets(), ["/once", "/again", "/again", "/again"]);
}

#[tokio::test]
async fn retry_after_is_honoured_within_the_deadline_and_a_404_is_never_retried() {
    // The first hit is told to come back after 1 s; the next one succeeds.
    let soon = Server::start(|_, number| match number {
        0 => Reply::Answer(429, vec![("retry-after", "1".to_owned())], Vec::new()),
        _ => ok("recovered"),
    })
    .await;
    let fetch = retrying(format!("{}/soon", soon.base), true, 3);
    let output = call(&fetch, json!({}), TIME).await.expect("an answer");
    assert_eq!(output, "HTTP 200 OK\ncontent-type: text/plain\n\nrecovered");
    assert_eq!(soon.targets().len(), 2, "1 s fits the 10 s deadline");

    // Told to come back in an hour: past the deadline, so the 503 is the answer.
    let later = Server::start(|_, _| {
        Reply::Answer(503, vec![("retry-after", "3600".to_owned())], Vec::new())
    })
    .await;
    let fetch = retrying(format!("{}/later", later.base), true, 3);
    let output = call(&fetch, json!({}), TIME).await.expect("an answer");
    assert_eq!(
        output,
        "HTTP 503 Service Unavailable\nretry-after: 3600\n\n[empty body]"
    );
    assert_eq!(later.targets().len(), 1, "an hour does not fit: no retry");

    let missing =
        Server::start(|_, _| Reply::Answer(404, Vec::new(), b"no such thing".to_vec())).await;
    let fetch = retrying(format!("{}/missing", missing.base), true, 3);
    let output = call(&fetch, json!({}), TIME).await.expect("an answer");
    assert_eq!(output, "HTTP 404 Not Found\n\nno such thing");
    assert_eq!(missing.targets().len(), 1);
}

#[tokio::test]
async fn a_retry_after_of_zero_lets_the_next_attempt_succeed() {
    let server = Server::start(|_, number| match number {
        0 => Reply::Answer(503, vec![("retry-after", "0".to_owned())], Vec::new()),
        _ => ok("second time lucky"),
    })
    .await;
    let fetch = retrying(format!("{}/flaky", server.base), true, 1);

    let output = call(&fetch, json!({}), TIME).await.expect("an answer");

    assert_eq!(
        output,
        "HTTP 200 OK\ncontent-type: text/plain\n\nsecond time lucky"
    );
    assert_eq!(server.targets(), ["/flaky", "/flaky"]);
}

#[tokio::test]
async fn a_redirect_is_not_followed_unless_allowed_and_then_only_to_the_same_origin() {
    let elsewhere = Server::start(|_, _| ok("elsewhere")).await;
    let away = format!("{}/away", elsewhere.base);
    let server = Server::start(move |hit, _| match hit.target.as_str() {
        "/start" => Reply::Answer(302, vec![("location", "/target".to_owned())], Vec::new()),
        "/leave" => Reply::Answer(307, vec![("location", away.clone())], Vec::new()),
        _ => ok("arrived"),
    })
    .await;

    let fetch = tool(spec(format!("{}/start", server.base)));
    let output = call(&fetch, json!({}), TIME).await.expect("an answer");
    assert_eq!(output, "HTTP 302 Found\nlocation: /target\n\n[empty body]");
    assert_eq!(server.targets(), ["/start"], "the target is never hit");

    let mut follows = spec(format!("{}/start", server.base));
    follows.follow_redirects = 1;
    let output = call(&tool(follows), json!({}), TIME)
        .await
        .expect("an answer");
    assert_eq!(output, "HTTP 200 OK\ncontent-type: text/plain\n\narrived");
    assert_eq!(server.targets(), ["/start", "/start", "/target"]);

    let mut leaves = spec(format!("{}/leave", server.base));
    leaves.follow_redirects = 5;
    let output = call(&tool(leaves), json!({}), TIME)
        .await
        .expect("an answer");
    assert!(
        output.starts_with("HTTP 307 Temporary Redirect\n"),
        "{output}"
    );
    assert!(
        elsewhere.targets().is_empty(),
        "another origin is never hit"
    );
}

// ===== through a swarm =====

#[tokio::test]
async fn a_scripted_model_calls_an_http_tool_and_reads_its_answer_in_the_transcript() {
    let server = Server::start(|hit, _| match hit.target.as_str() {
        "/users/ada" => Reply::Answer(
            200,
            vec![("content-type", "application/json".to_owned())],
            br#"{"name":"Ada","langs":["en"]}"#.to_vec(),
        ),
        _ => Reply::Stall,
    })
    .await;
    let users = tool(HttpToolSpec {
        name: "get_user".into(),
        ..spec(format!("{}/users/{{path}}", server.base))
    });
    let slow = tool(HttpToolSpec {
        name: "slow".into(),
        ..spec(format!("{}/slow", server.base))
    });
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fetcher",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("get_user", json!({"path": "ada"})).with_id("user"),
                ScriptedCall::tool("slow", json!({})).with_id("slow"),
            ]),
            ScriptedTurn::text("done"),
        ],
    ));
    let options = |millis| ToolOptions {
        timeout: Some(Duration::from_millis(millis)),
        ..ToolOptions::default()
    };
    let swarm = support::start(
        Swarm::builder()
            .dynamic_tool(Arc::new(users), options(10_000))
            .dynamic_tool(Arc::new(slow), options(300))
            .agent(Agent::new("fetcher").with_tools(["get_user", "slow"])),
        &model,
    );

    let result = swarm
        .run("fetcher", "who is ada?")
        .await
        .expect("the run ends");

    assert_eq!(result.final_output, "done");
    assert_eq!(
        output_of(&result.transcript, "user"),
        "HTTP 200 OK\ncontent-type: application/json\n\n{\n  \"name\": \"Ada\",\n  \"langs\": [\n    \"en\"\n  ]\n}"
    );
    assert_eq!(
        output_of(&result.transcript, "slow"),
        "error: tool `slow` timed out after 300 ms"
    );
    swarm.shutdown().await;
}
