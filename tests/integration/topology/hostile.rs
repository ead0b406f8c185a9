//! The loader never panics and never hangs on hostile input: random bytes, random YAML-ish
//! token soup, deep nesting, an alias bomb, huge scalars, a file over the size cap. Each gets
//! a clear error (or, for harmless soup, a result) in bounded time; the parser's budgets bound
//! the memory.
//!
//! The time limits are deliberately loose (a hang is what they catch, not a slowdown: timing
//! is measured in benches, not here); debug builds take about a second on the largest case.

use std::path::Path;
use std::time::{Duration, Instant};

use baton::topology::{self, MAX_FILE_BYTES, TopologyError};
use proptest::prelude::*;

const LIMIT: Duration = Duration::from_secs(60);

fn parse(text: &str) -> Result<topology::Topology, TopologyError> {
    topology::parse(text, Path::new("hostile.yaml"))
}

/// Parses `text`, asserts it fails within [`LIMIT`], and returns the error's text.
fn refused(text: &str) -> String {
    let start = Instant::now();
    let err = parse(text).expect_err("hostile input was accepted");
    let took = start.elapsed();
    assert!(took < LIMIT, "took {took:?}");
    let message = err.to_string();
    assert!(message.starts_with("hostile.yaml:"), "{message}");
    message
}

const TOKENS: &[&str] = &[
    "entry: ",
    "agents:",
    "tools:",
    "handoffs: ",
    "scripted:",
    "- ",
    "name: ",
    "builtin: ",
    "agent: ",
    "file: ",
    "a",
    "b",
    "add",
    "[",
    "]",
    "{",
    "}",
    ", ",
    ": ",
    "&x ",
    "*x",
    "<<: ",
    "\n",
    "  ",
    "    ",
    "${X}",
    "${X:-d}",
    "$${",
    "!!str ",
    "!tag ",
    "'",
    "\"",
    "# c",
    "|\n",
    ">\n",
    "---\n",
    "...\n",
    "? ",
    "~",
    "null",
    "true",
    "1e999",
    "-1",
    "0x1F",
    "\t",
    "\u{feff}",
    "é",
    "\\",
    "%YAML 1.2\n",
    "{{output:a}}",
    "limits:",
    "max_turns: ",
    "tool_timeout: ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
    }

    #[test]
    fn random_yaml_token_soup_never_panics(
        picks in proptest::collection::vec(0..TOKENS.len(), 0..300)
    ) {
        let text: String = picks.iter().map(|&i| TOKENS[i]).collect();
        let _ = parse(&text);
    }
}

#[test]
fn deep_flow_nesting_is_refused() {
    let message = refused(&"[".repeat(100_000));
    assert!(
        message.contains("recursion limit") || message.contains("budget"),
        "{message}"
    );
}

#[test]
fn deep_block_nesting_is_refused() {
    let text: String = (0..5_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let message = refused(&text);
    assert!(message.contains("budget breached: Depth"), "{message}");
}

#[test]
fn a_billion_laughs_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let message = refused(&text);
    assert!(message.contains("budget breached"), "{message}");
}

#[test]
fn aliases_of_a_huge_string_are_refused() {
    let text = format!(
        "a: &a \"{}\"\nb: [{}]\n",
        "x".repeat(3_000_000),
        vec!["*a"; 100].join(", ")
    );
    assert!(text.len() < MAX_FILE_BYTES as usize);
    let message = refused(&text);
    assert!(
        message.contains("budget breached: ScalarBytes"),
        "{message}"
    );
}

#[test]
fn a_file_just_under_the_cap_full_of_keys_is_refused_quickly() {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < MAX_FILE_BYTES as usize - 64 {
        text.push_str(&format!("k{i}: v\n"));
        i += 1;
    }
    let message = refused(&text);
    assert!(message.contains("budget breached"), "{message}");
}

#[test]
fn a_huge_instructions_string_below_the_cap_loads() {
    let text = format!(
        "entry: a\nagents:\n  - name: a\n    instructions: \"{}\"\n    scripted: [{{ text: hi }}]\n",
        "x".repeat(3_500_000)
    );
    let start = Instant::now();
    let topology = parse(&text).unwrap();
    assert!(start.elapsed() < LIMIT);
    assert_eq!(topology.agents().len(), 1);
}

#[test]
fn a_50_mb_file_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("baton-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.yaml");
    // A sparse file: 50 MB by its metadata, cheap to make.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    drop(file);
    let start = Instant::now();
    let err = topology::load(&path).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(err, TopologyError::TooLarge { size, .. } if size == 50 * 1024 * 1024),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("topologies are limited to 4194304 bytes"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_agent_file_over_the_cap_is_a_located_error() {
    let dir = std::env::temp_dir().join(format!("baton-hostile-folder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("topology.yaml"),
        "entry: a\nagents:\n  - file: a.yaml\n",
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("a.yaml")).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    drop(file);
    let err = topology::load(&dir).unwrap_err();
    let too_large = err
        .diagnostics()
        .iter()
        .find(|d| d.message.contains("topologies are limited to"))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!((too_large.line, too_large.column), (3, 11));
    assert!(too_large.file.ends_with("topology.yaml"), "{too_large}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn an_endless_device_is_refused_before_it_is_read() {
    // `/dev/zero` claims no size and never ends: it is not a regular file, so it is not read.
    // See: issue 9
    let start = Instant::now();
    let err = topology::load("/dev/zero").unwrap_err();
    assert!(start.elapsed() < LIMIT);
    assert!(
        matches!(&err, TopologyError::Read { error, .. } if error.to_string() == "not a regular file (a device)"),
        "{err}"
    );
}

#[test]
fn long_misspelt_names_do_not_stall_the_hints() {
    // Measuring how far apart two names of 100,000 characters are takes 10^10 steps.
    let text = format!(
        "entry: a\nagents:\n  - name: a\n    handoffs: [{}]\n  - name: {}\n",
        "y".repeat(100_000),
        "x".repeat(100_000)
    );
    let start = Instant::now();
    let err = parse(&text).expect_err("an unknown handoff target was accepted");
    assert!(start.elapsed() < LIMIT);
    assert!(
        err.diagnostics()
            .iter()
            .any(|d| d.message.starts_with("unknown handoff target `yyy")),
        "{err}"
    );
}
