//! `baton check | graph | schema`: look at a topology without running it.
//!
//! ```console
//! $ baton check agents/*.yaml                 # rustc-style problems; exit 1 on any error
//! $ baton check --format json agents/x.yaml   # the same, for editors and CI
//! $ baton check --connect agents/files.yaml   # also start its MCP servers and list their tools
//! $ baton graph agents/math.yaml --format dot # mermaid (default), dot, or svg (Graphviz)
//! $ baton schema > baton.schema.json          # the JSON Schema, for the YAML language server
//! ```

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow};
use baton::topology::{self, Diagnostic, Severity, TopologyError};
use serde_json::json;

use super::{Failure, connect};

/// Arguments of `baton check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Topology files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// `text` (rustc style) or `json` (one object: diagnostics, error and warning counts).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// Also start each tool source (MCP server), show the tools it exposes under which
    /// names, then stop it; a source that cannot start or list its tools is an error.
    #[arg(long)]
    connect: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// Arguments of `baton graph`.
#[derive(Debug, clap::Args)]
pub(crate) struct GraphArgs {
    /// The topology file or folder.
    path: PathBuf,
    /// `mermaid`, `dot` (Graphviz source) or `svg` (rendered by Graphviz's `dot`).
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
    Svg,
}

/// Arguments of `baton schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    /// The schema of one agent's file (folder topologies) instead of a topology's.
    #[arg(long, conflicts_with = "simulation")]
    agent: bool,
    /// The schema of a simulation section kept in a file of its own (`simulation: sim.yaml`).
    #[arg(long)]
    simulation: bool,
}

// ===== check =====

pub(crate) fn check(args: CheckArgs) -> Result<(), Failure> {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut unreadable = Vec::new();
    let mut connections = Vec::new();
    for path in &args.paths {
        match topology::load(path) {
            Ok(topology) => {
                diagnostics.extend(topology.warnings().iter().cloned());
                if args.connect {
                    connections.extend(connect::connect(&topology).map_err(Failure::Run)?);
                }
            }
            Err(TopologyError::Read { path: file, error }) => {
                let hint = path.is_dir().then_some(
                    "a folder is read as one folder topology with a topology.yaml; to check \
                     several files, name them: `baton check agents/*.yaml`",
                );
                match hint {
                    Some(hint) => unreadable.push(format!("{}: {error} ({hint})", file.display())),
                    None => unreadable.push(format!("{}: {error}", file.display())),
                }
                if matches!(args.format, CheckFormat::Json) {
                    // Editors and CI read only the JSON: the read error is one of its problems
                    // (still exit 2, as for text). See: issue 9
                    let mut d = whole_file(&file, format!("cannot read the topology: {error}"));
                    d.hint = hint.map(str::to_owned);
                    diagnostics.push(d);
                }
            }
            Err(ref e @ TopologyError::TooLarge { path: ref file, .. }) => {
                // Located at the file itself (a folder's `topology.yaml`, not the folder): it
                // is a problem of the topology, not of usage.
                diagnostics.push(whole_file(file, e.to_string()));
            }
            Err(e) => diagnostics.extend(e.diagnostics().iter().cloned()),
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count()
        + connections.iter().filter(|c| c.failed()).count();
    let warnings = diagnostics.iter().filter(|d| !d.is_error()).count();
    let out = match args.format {
        CheckFormat::Text => {
            let mut out = String::new();
            let mut source = Source::default();
            for d in &diagnostics {
                out.push_str(&render(d, &mut source));
            }
            for c in &connections {
                out.push_str(&c.text());
            }
            let _ = writeln!(
                out,
                "{} checked: {}, {}",
                plural(
                    args.paths.len() - unreadable.len(),
                    "topology",
                    "topologies"
                ),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
            out
        }
        CheckFormat::Json => {
            let list: Vec<serde_json::Value> = diagnostics.iter().map(to_json).collect();
            let connected: Vec<serde_json::Value> = connections.iter().map(|c| c.json()).collect();
            let mut text = serde_json::to_string_pretty(&json!({
                "diagnostics": list,
                "sources": connected,
                "errors": errors,
                "warnings": warnings,
            }))
            .map_err(|e| Failure::Run(e.into()))?;
            text.push('\n');
            text
        }
    };
    print(&out)?;
    if !unreadable.is_empty() {
        return Err(Failure::Input(anyhow!(
            "cannot read {}",
            unreadable.join("; ")
        )));
    }
    if errors > 0 {
        return Err(Failure::Run(anyhow!(
            "{} found",
            plural(errors, "error", "errors")
        )));
    }
    Ok(())
}

/// A diagnostic about a whole file (too large to parse).
fn whole_file(path: &Path, message: String) -> Diagnostic {
    Diagnostic::new(Severity::Error, path, 1, 1, message)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// rustc style: the message, the place, the source line with a caret under the problem, and
/// the hint.
fn render(d: &Diagnostic, source: &mut Source) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", d.severity.as_str(), d.message);
    let number = d.line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "{pad}--> {}:{}:{}", d.file.display(), d.line, d.column);
    if let Some(line) = source.line(&d.file, d.line) {
        let (shown, caret_at) = window(line, d.column as usize);
        let prefix: String = shown
            .chars()
            .take(caret_at)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let room = shown.chars().count().saturating_sub(caret_at).max(1);
        let width = (d.len as usize).clamp(1, room);
        let caret = if d.severity == Severity::Error {
            "^"
        } else {
            "-"
        };
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {shown}");
        let _ = writeln!(out, "{pad} | {prefix}{}", caret.repeat(width));
    }
    if let Some(hint) = &d.hint {
        let _ = writeln!(out, "{pad} = help: {hint}");
    }
    out.push('\n');
    out
}

/// The lines of the file the last diagnostic pointed into, as characters (columns count
/// characters). Diagnostics come grouped by file, so each file is read and split once, not
/// once per problem: a file can have tens of thousands, all on one long line.
#[derive(Default)]
struct Source {
    file: PathBuf,
    /// `None` if the file cannot be read.
    lines: Option<Vec<Vec<char>>>,
}

impl Source {
    /// The characters of 1-based line `n` of `file`, if it can be read.
    fn line(&mut self, file: &Path, n: u32) -> Option<&[char]> {
        if self.file != file {
            self.file = file.to_owned();
            self.lines = read_lines(file);
        }
        let index = n.checked_sub(1)? as usize;
        self.lines.as_ref()?.get(index).map(Vec::as_slice)
    }
}

/// The lines of `file`, reading no more than a topology may hold (a file refused as too large
/// may be endless, like `/dev/zero`).
fn read_lines(file: &Path) -> Option<Vec<Vec<char>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(topology::MAX_FILE_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| l.trim_end_matches('\r').chars().collect())
            .collect(),
    )
}

/// At most 120 characters of `chars` (a line) around 1-based `column`, and the caret's 0-based
/// offset.
fn window(chars: &[char], column: usize) -> (String, usize) {
    const MAX: usize = 120;
    let at = column.saturating_sub(1).min(chars.len());
    if chars.len() <= MAX {
        return (chars.iter().collect(), at);
    }
    let start = at.saturating_sub(MAX / 2);
    let end = (start + MAX).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut offset = at - start;
    if start > 0 {
        shown.insert_str(0, "...");
        offset += 3;
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, offset)
}

fn to_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "file": d.file.display().to_string(),
        "line": d.line,
        "column": d.column,
        "end_column": d.column + d.len,
        "severity": d.severity.as_str(),
        "message": d.message,
        "hint": d.hint,
    })
}

// ===== graph =====

pub(crate) fn graph(args: GraphArgs) -> Result<(), Failure> {
    let topology = topology::load(&args.path).map_err(|e| Failure::Input(e.into()))?;
    let out = match args.format {
        GraphFormat::Mermaid => topology.to_mermaid(),
        GraphFormat::Dot => topology.to_dot(),
        GraphFormat::Svg => svg(&topology.to_dot())?,
    };
    print(&out)
}

/// Renders DOT with Graphviz's `dot`, if it is installed.
fn svg(dot: &str) -> Result<String, Failure> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Input(anyhow!(
                "`--format svg` needs Graphviz's `dot` on PATH (Debian: apt-get install graphviz); \
                 `--format dot` prints the source to render elsewhere"
            )));
        }
        Err(e) => return Err(Failure::Run(anyhow!(e).context("cannot start `dot`"))),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .context("cannot write to `dot`")
            .map_err(Failure::Run)?;
    }
    let output = child
        .wait_with_output()
        .context("`dot` failed")
        .map_err(Failure::Run)?;
    if !output.status.success() {
        return Err(Failure::Run(anyhow!(
            "`dot` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout).map_err(|e| Failure::Run(e.into()))
}

// ===== schema =====

pub(crate) fn schema(args: SchemaArgs) -> Result<(), Failure> {
    let schema = if args.agent {
        topology::agent_schema()
    } else if args.simulation {
        topology::simulation_schema()
    } else {
        topology::schema()
    };
    let mut text = serde_json::to_string_pretty(&schema).map_err(|e| Failure::Run(e.into()))?;
    text.push('\n');
    print(&text)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Run(e.into())),
        _ => Ok(()),
    }
}
