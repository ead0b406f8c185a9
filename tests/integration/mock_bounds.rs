//! The mock server's bounds, over real sockets: a request head sent halfway, a body sent
//! halfway and a kept-alive connection that sends nothing more are each closed, while other
//! requests are served and the mock's own waits are not mistaken for idleness; records stay
//! within their byte budget; a scripted text cannot expand without end.
//! See: issue 9

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use baton::mock::MockServer;
use baton::topology::Topology;

/// Longer than any bound here by far: a read that waits this long means nothing closed.
const GENEROUS: Duration = Duration::from_secs(20);
/// The short timeouts the tests set.
const SHORT: Duration = Duration::from_millis(300);

fn topology(text: &str) -> Topology {
    let yaml = format!("entry: a\nagents:\n  - name: a\n    scripted:\n      - text: \"{text}\"\n");
    baton::topology::parse(&yaml, Path::new("bounds.yaml")).expect("the topology is valid")
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the mock accepts");
    stream
        .set_read_timeout(Some(GENEROUS))
        .expect("a read timeout");
    stream
}

/// Reads until the server closes the connection; fails if it is still open after
/// [`GENEROUS`]. Returns what was read.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!(
                    "the connection was still open after {GENEROUS:?}; read so far: {}",
                    String::from_utf8_lossy(&seen)
                )
            }
            // Reset by the server: closed too.
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Sends a whole request (closing after it) and returns the whole answer.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> String {
    let mut stream = connect(addr);
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: mock\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    read_until_closed(&mut stream)
}

#[test]
fn a_request_head_sent_halfway_is_closed_while_others_are_served() {
    let server = MockServer::builder(&topology("hi"))
        .header_read_timeout(SHORT)
        .start()
        .expect("the mock starts");
    let mut stalled = connect(server.addr());
    stalled
        .write_all(b"POST /v1/responses HTTP/1.1\r\nHost: mock\r\nContent-Le")
        .expect("half a head is sent");
    let served = request(server.addr(), "GET", "/v1/models", "", "");
    assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served}");
    let answer = read_until_closed(&mut stalled);
    assert!(!answer.contains("200 OK"), "{answer}");
    // And a connection that never sends a byte.
    let mut silent = connect(server.addr());
    read_until_closed(&mut silent);
}

#[test]
fn a_body_sent_halfway_and_an_idle_kept_alive_connection_are_closed() {
    let server = MockServer::builder(&topology("hi"))
        .idle_timeout(SHORT)
        .start()
        .expect("the mock starts");
    let mut stalled = connect(server.addr());
    stalled
        .write_all(b"POST /v1/responses HTTP/1.1\r\nHost: mock\r\nContent-Length: 100\r\n\r\n{\"mo")
        .expect("half a body is sent");
    let served = request(server.addr(), "GET", "/v1/models", "", "");
    assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served}");
    let answer = read_until_closed(&mut stalled);
    assert!(!answer.contains("200 OK"), "{answer}");

    // A kept-alive connection: answered, then closed once it stays quiet.
    let mut kept = connect(server.addr());
    kept.write_all(b"GET /v1/models HTTP/1.1\r\nHost: mock\r\n\r\n")
        .expect("a request is sent");
    let answer = read_until_closed(&mut kept);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
}

#[test]
fn the_mocks_own_latency_is_not_idleness() {
    let server = MockServer::builder(&topology("slow answer"))
        .idle_timeout(Duration::from_millis(50))
        .latency(Duration::from_millis(400))
        .start()
        .expect("the mock starts");
    let answer = request(
        server.addr(),
        "POST",
        "/v1/responses",
        "x-baton-agent: a\r\n",
        r#"{"model": "m", "input": "hi"}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("slow answer"), "{answer}");
}

#[test]
fn records_are_capped_by_bytes_and_keep_the_newest() {
    let budget = 16 * 1024;
    let server = MockServer::builder(&topology("hi"))
        .record_bytes(budget)
        .start()
        .expect("the mock starts");
    // A 100 KB unknown field: its name is quoted in the error, which each record keeps.
    let field = "f".repeat(100_000);
    for i in 0..40 {
        let body = format!(r#"{{"model": "m", "input": "{i}", "{field}{i}": 1}}"#);
        let answer = request(server.addr(), "POST", "/v1/responses", "", &body);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{}", &answer[..200]);
    }
    let records = server.records();
    assert!(
        (1..40).contains(&records.len()),
        "{} records kept",
        records.len()
    );
    let kept: usize = records
        .iter()
        .map(|r| r.error.as_ref().map_or(0, String::len))
        .sum();
    assert!(kept <= budget, "{kept} bytes of errors kept");
    let last = records
        .last()
        .and_then(|r| r.error.clone())
        .unwrap_or_default();
    assert!(last.starts_with("Unknown parameter: 'fff"), "{last}");
    assert!(last.len() <= 1024 + 3, "{} bytes", last.len());
    assert!(records.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn the_mock_refuses_a_scripted_text_that_would_expand_past_its_bound() {
    let server = MockServer::start(&topology(&"{{input}}".repeat(2_000))).expect("the mock starts");
    let input = "y".repeat(100_000);
    let answer = request(
        server.addr(),
        "POST",
        "/v1/responses",
        "x-baton-agent: a\r\n",
        &format!(r#"{{"model": "m", "input": "{input}"}}"#),
    );
    assert!(
        answer.starts_with("HTTP/1.1 400 "),
        "{}",
        &answer[..200.min(answer.len())]
    );
    assert!(
        answer.contains("scripted turn 1 of agent `a`: its text would expand past 1048576 bytes"),
        "{}",
        &answer[..400.min(answer.len())]
    );
    assert!(answer.len() < 10_000, "{} bytes", answer.len());
}
