//! `http` and `command` tools declared in YAML (issue 10): `agents/ops.yaml` against a status
//! service the test starts on 127.0.0.1, through `baton run`, both calls in one turn; the
//! same topology offline, where the HTTP call's connection error is an output.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A status service on a free port: answers every request with a small JSON body and records
/// each request line.
fn status_service() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            record.lock().unwrap().push(line.trim_end().to_owned());
            // The rest of the head, up to the blank line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let body = r#"{"service":"billing","status":"up","latency_ms":12}"#;
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn ops_topology_asks_a_local_status_service_and_the_host_in_one_turn() {
    let (url, seen) = status_service();
    let output = crate::support::baton_command()
        .args(["run", "agents/ops.yaml", "Is billing up?", "--offline"])
        .env("STATUS_URL", &url)
        .output()
        .expect("baton runs");
    let stdout = crate::support::text(&output.stdout);
    let stderr = crate::support::text(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(*seen.lock().unwrap(), ["GET /v1/status/billing HTTP/1.1"]);
    assert!(stdout.contains("billing: HTTP 200 OK"), "{stdout}");
    assert!(
        stdout.contains(r#""status": "up""#),
        "pretty-printed JSON: {stdout}"
    );
    let kernel = std::process::Command::new("uname")
        .arg("-s")
        .output()
        .unwrap();
    let kernel = crate::support::text(&kernel.stdout);
    assert!(stdout.contains("host: exit code: 0"), "{stdout}");
    assert!(stdout.contains(kernel.trim()), "{stdout}");
}

#[test]
fn ops_topology_runs_offline_with_the_connection_error_as_an_output() {
    // A port nothing listens on: bind one, then let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = crate::support::baton_command()
        .args(["run", "agents/ops.yaml", "Is billing up?", "--offline"])
        .env("STATUS_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .expect("baton runs");
    let stdout = crate::support::text(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("billing: error: tool `service_status`"),
        "{stdout}"
    );
    assert!(stdout.contains("host: exit code: 0"), "{stdout}");
}

// See: issue 11
#[test]
fn a_model_entry_says_whether_it_takes_images() {
    let text = "entry: a\nmodels:\n  - { name: eyes, provider: openai, model: gpt-4.1, images: true }\n  - { name: text, provider: openai, model: gpt-4.1-mini }\nagents:\n  - { name: a, model: eyes, handoffs: [b], scripted: [{ text: hi }] }\n  - { name: b, model: text, scripted: [{ text: hi }] }\n";
    let topology =
        baton::topology::parse(text, std::path::Path::new("images.yaml")).expect("it loads");
    let images: Vec<(&str, bool)> = topology
        .models()
        .iter()
        .map(|m| (m.name.as_str(), m.images))
        .collect();
    assert_eq!(images, [("eyes", true), ("text", false)]);
}

// See: issue 11
#[test]
fn an_agent_naming_an_mcp_server_may_call_and_choose_its_tools_before_they_are_listed() {
    let text = "entry: a\nmodels:\n  - name: m\n    provider: openai\n    model: gpt-4.1-mini\n    settings: { tool_choice: { function: fs_read_text_file } }\ntools:\n  - name: files\n    mcp: { command: baton-not-started-here, prefix: fs_ }\nagents:\n  - name: a\n    model: m\n    tools: [files]\n    scripted:\n      - calls: [{ tool: fs_read_text_file, args: { path: x } }]\n      - text: done\n";
    let topology =
        baton::topology::parse(text, std::path::Path::new("mcp.yaml")).expect("it loads");
    assert!(topology.warnings().is_empty(), "{:?}", topology.warnings());
    assert_eq!(topology.tool_sources().len(), 1);
    assert_eq!(topology.tool_sources()[0].name(), "files");
}
