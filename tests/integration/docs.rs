//! The repository's docs stand alone and work as written: README.md and docs/*.md name only
//! files that exist, their `baton` commands run (offline), their Rust snippets are whole
//! programs a reader can copy (rustdoc compiles them as doctests), and the README says how to
//! depend on the crate.

use std::path::{Path, PathBuf};
use std::process::Command;

// See: issue 9

/// The repository root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, with their text.
fn docs() -> Vec<(PathBuf, String)> {
    let mut paths = vec![root().join("README.md")];
    let mut in_docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    in_docs.sort();
    paths.extend(in_docs);
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a doc is readable");
            (path, text)
        })
        .collect()
}

/// A fenced block: its info string (`rust,no_run`, `console`) and its lines.
struct Block {
    info: String,
    lines: Vec<String>,
}

/// The fenced blocks of `text`, and the prose outside them (one string per line).
fn split(text: &str) -> (Vec<Block>, Vec<String>) {
    let (mut blocks, mut prose) = (Vec::new(), Vec::new());
    let mut open: Option<Block> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    lines: Vec::new(),
                });
            }
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some(block), None) => block.lines.push(line.to_owned()),
            (None, None) => prose.push(line.to_owned()),
        }
    }
    (blocks, prose)
}

/// The text of each inline code span in `line`, and the target of each relative link.
fn spans_and_links(line: &str) -> Vec<String> {
    let mut found: Vec<String> = line
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let tail = &rest[at + 2..];
        let Some(end) = tail.find(')') else { break };
        let target = tail[..end].split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") {
            found.push(target.to_owned());
        }
        rest = &tail[end..];
    }
    found
}

/// Whether `word` names a file of the repository: under one of its folders, or a `.md` file.
fn is_repo_path(word: &str) -> bool {
    const FOLDERS: [&str; 8] = [
        "agents/",
        "docs/",
        "examples/",
        "src/",
        "tests/",
        "benches/",
        ".ci/",
        "../",
    ];
    !word.contains("**") && (FOLDERS.iter().any(|f| word.starts_with(f)) || word.ends_with(".md"))
}

/// `word` without the punctuation prose puts around it.
fn trim_word(word: &str) -> &str {
    word.trim_start_matches(['"', '\'', '('])
        .trim_end_matches(['"', '\'', ',', ';', ':', ')', '.'])
}

/// The files `pattern` names, relative to `base`: itself, or for a `*` in its last part,
/// the files of its folder that match.
fn resolve(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let path = base.join(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((prefix, suffix)) = name.split_once('*') else {
        return if path.exists() {
            vec![path]
        } else {
            Vec::new()
        };
    };
    let folder = path.parent().unwrap_or(base);
    let mut matches: Vec<PathBuf> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.len() >= prefix.len() + suffix.len() && n.starts_with(prefix) && n.ends_with(suffix)
        })
        .collect();
    matches.sort();
    matches
}

/// Whether `word` exists relative to the repository root or to the doc's folder.
fn exists(doc: &Path, word: &str) -> bool {
    let folder = doc.parent().unwrap_or(root());
    !resolve(root(), word).is_empty() || !resolve(folder, word).is_empty()
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (doc, text) in docs() {
        let (blocks, prose) = split(&text);
        let mut words: Vec<String> = prose
            .iter()
            .flat_map(|line| spans_and_links(line))
            .flat_map(|span| {
                span.split_whitespace()
                    .map(|w| trim_word(w).to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        for block in blocks.iter().filter(|b| is_shell(&b.info)) {
            for command in commands(block) {
                words.extend(command.into_iter().map(|w| trim_word(&w).to_owned()));
            }
        }
        for word in words.iter().filter(|w| is_repo_path(w)) {
            checked += 1;
            if !exists(&doc, word) {
                missing.push(format!(
                    "{}: `{word}`",
                    doc.strip_prefix(root()).unwrap_or(&doc).display()
                ));
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} paths found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
}

/// Whether a block's info string marks shell commands.
fn is_shell(info: &str) -> bool {
    matches!(info, "console" | "sh" | "shell" | "bash")
}

/// The commands of a shell block, each as its words: the `$ ` lines if it has any (the rest
/// is output), else every line; continuation lines joined, comments dropped, quotes removed.
fn commands(block: &Block) -> Vec<Vec<String>> {
    let prompted = block.lines.iter().any(|l| l.starts_with("$ "));
    let mut joined: Vec<String> = Vec::new();
    let mut continued = false;
    for line in &block.lines {
        let line = if prompted && !continued {
            match line.strip_prefix("$ ") {
                Some(command) => command,
                None => continue,
            }
        } else {
            line.as_str()
        };
        let (line, more) = match line.trim_end().strip_suffix('\\') {
            Some(head) => (head, true),
            None => (line, false),
        };
        if continued && let Some(last) = joined.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        } else {
            joined.push(line.trim().to_owned());
        }
        continued = more;
    }
    joined
        .iter()
        .map(|line| words(line))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A command line's words as a shell splits them (quotes removed), up to a `#` comment.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The `baton` arguments of a command (`baton ...`, `cargo run [--release] -- ...`, after
/// any `VAR=value` prefixes), or `None` for other programs.
fn baton_args(command: &[String]) -> Option<Vec<String>> {
    let start = command
        .iter()
        .position(|w| !w.contains('=') || w.starts_with('-'))?;
    let command = &command[start..];
    let args = match command.first()?.as_str() {
        "baton" => &command[1..],
        "cargo" if command.get(1).is_some_and(|w| w == "run") => {
            let dashes = command.iter().position(|w| w == "--")?;
            &command[dashes + 1..]
        }
        _ => return None,
    };
    // A redirection ends the arguments (`baton schema > file`).
    let end = args
        .iter()
        .position(|w| w.starts_with('>'))
        .unwrap_or(args.len());
    Some(args[..end].to_vec())
}

#[test]
fn the_docs_baton_commands_run_offline() {
    let mut ran = Vec::new();
    let mut failed = Vec::new();
    for (doc, text) in docs() {
        let (blocks, _) = split(&text);
        for block in blocks.iter().filter(|b| is_shell(&b.info)) {
            for command in commands(block) {
                let Some(mut args) = baton_args(&command) else {
                    continue;
                };
                match args.first().map(String::as_str) {
                    Some("check" | "graph" | "schema" | "sim") => {}
                    Some("run") if !args.iter().any(|a| a == "--offline") => {
                        args.push("--offline".to_owned());
                    }
                    Some("run") => {}
                    // A server: `cli_http` runs it.
                    _ => continue,
                }
                // The shell expands globs.
                let args: Vec<String> = args
                    .iter()
                    .flat_map(|a| {
                        let matches = resolve(root(), a);
                        if a.contains('*') && !matches.is_empty() {
                            matches
                                .iter()
                                .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
                                .collect()
                        } else {
                            vec![a.clone()]
                        }
                    })
                    .collect();
                let out = Command::new(env!("CARGO_BIN_EXE_baton"))
                    .args(&args)
                    .current_dir(root())
                    .env_remove("OPENAI_API_KEY")
                    .env_remove("OPENAI_BASE_URL")
                    .output()
                    .expect("the baton binary runs");
                let line = format!(
                    "{}: baton {}",
                    doc.strip_prefix(root()).unwrap_or(&doc).display(),
                    args.join(" ")
                );
                if out.status.success() {
                    ran.push(line);
                } else {
                    failed.push(format!(
                        "{line}: {}\n{}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "commands that fail:\n{}",
        failed.join("\n")
    );
    // README: run, run --stream, check, graph, schema; models.md: five runs; topology.md:
    // check, run, graph, schema.
    assert!(ran.len() >= 12, "only these ran:\n{}", ran.join("\n"));
}

#[test]
fn every_rust_snippet_in_the_docs_is_a_whole_program_without_hidden_lines() {
    let mut problems = Vec::new();
    let mut snippets = 0;
    for (doc, text) in docs() {
        let name = doc
            .strip_prefix(root())
            .unwrap_or(&doc)
            .display()
            .to_string();
        let (blocks, _) = split(&text);
        for block in blocks
            .iter()
            .filter(|b| b.info.split(',').next() == Some("rust"))
        {
            snippets += 1;
            // rustdoc hides `# ` lines on a rendered page, so a copy would miss them.
            if let Some(hidden) = block
                .lines
                .iter()
                .find(|l| l.trim_start() == "#" || l.trim_start().starts_with("# "))
            {
                problems.push(format!("{name}: hidden line `{hidden}`"));
            }
            if !block.lines.iter().any(|l| l.contains("fn main(")) {
                problems.push(format!("{name}: a snippet without `fn main`"));
            }
        }
    }
    assert!(snippets >= 3, "only {snippets} Rust snippets found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_says_how_to_depend_on_the_crate() {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let (blocks, _) = split(&text);
    let toml: Vec<&String> = blocks
        .iter()
        .filter(|b| b.info == "toml")
        .flat_map(|b| &b.lines)
        .collect();
    assert!(
        toml.iter().any(|l| l.trim() == "[dependencies]"),
        "{toml:?}"
    );
    let baton = toml
        .iter()
        .find(|l| l.starts_with("baton = "))
        .unwrap_or_else(|| panic!("no `baton = ` dependency line in {toml:?}"));
    assert!(
        baton.contains("path = ") || baton.contains("git = "),
        "{baton}"
    );
    // The lean form is shown too.
    assert!(
        toml.iter().any(|l| l.contains("default-features = false")),
        "{toml:?}"
    );
    // Each crate a snippet uses besides baton is in the block.
    for dependency in ["tokio = ", "serde_json = "] {
        assert!(
            toml.iter().any(|l| l.starts_with(dependency)),
            "no `{dependency}` in {toml:?}"
        );
    }
}

#[test]
fn the_docs_say_that_an_async_tool_that_blocks_stalls_its_shard() {
    // `shard_blocking` shows it is so.
    for file in ["src/tool/mod.rs", "README.md", "docs/architecture.md"] {
        let text = std::fs::read_to_string(root().join(file)).expect("the file is readable");
        let flat = text
            .lines()
            .map(|l| l.trim_start_matches("///").trim_start_matches("//!").trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!flat.contains("multi-thread runtime"), "{file}");
        assert!(
            flat.contains("stalls every agent"),
            "{file} does not say it"
        );
        assert!(
            flat.contains("BlockingTool"),
            "{file} does not point to `BlockingTool`"
        );
    }
}
