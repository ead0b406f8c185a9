//! Problems found in a topology: [`Diagnostic`] (located, an error or a warning) and
//! [`TopologyError`] (why a topology could not be loaded).
//!
//! These errors live on the loading side: a topology with an error never starts. Warnings
//! (a handoff cycle, say) do not stop it; [`Topology::warnings`](super::Topology::warnings)
//! keeps them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::MAX_FILE_BYTES;
use super::read::{HINT_WORK, did_you_mean};

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The topology cannot be used.
    Error,
    /// The topology works, but probably not as meant (a handoff cycle, say).
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A problem at a place in a topology file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// How many characters the problem spans from `column` (at least 1).
    pub len: u32,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix (`did you mean ...`).
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a line and column of `file` (for tools that report their own problems
    /// the same way, such as `baton check` for a file too large to parse).
    pub fn new(
        severity: Severity,
        file: impl Into<PathBuf>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            len: 1,
            severity,
            message: message.into(),
            hint: None,
        }
    }

    /// An error at `at`.
    pub(super) fn error(at: Place, message: String, hint: Option<String>) -> Self {
        Self::at(Severity::Error, at, message, hint)
    }

    fn at(severity: Severity, at: Place, message: String, hint: Option<String>) -> Self {
        Diagnostic {
            file: at.file.to_path_buf(),
            line: at.line,
            column: at.column,
            len: at.len.max(1),
            severity,
            message,
            hint,
        }
    }

    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line:col: message (hint)`; warnings say `warning: ` before the message.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Where a value is: a file, line, column and width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Place {
    pub(super) file: Arc<Path>,
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) len: u32,
}

/// The problems found so far, across every file of a topology.
#[derive(Debug)]
pub(super) struct Problems {
    list: Vec<Diagnostic>,
    /// The work "did you mean" hints may still do (see [`HINT_WORK`]).
    hint_work: u64,
}

impl Default for Problems {
    fn default() -> Self {
        Problems {
            list: Vec::new(),
            hint_work: HINT_WORK,
        }
    }
}

impl Problems {
    /// Suggests the closest of `candidates` to a misspelt `name`, if the topology's hints
    /// have work left.
    pub(super) fn did_you_mean<'c>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Option<String> {
        did_you_mean(name, candidates, &mut self.hint_work)
    }

    /// Records an error.
    pub(super) fn error(&mut self, at: &Place, message: impl Into<String>, hint: Option<String>) {
        self.list.push(Diagnostic::at(
            Severity::Error,
            at.clone(),
            message.into(),
            hint,
        ));
    }

    /// Records a warning.
    pub(super) fn warning(&mut self, at: &Place, message: impl Into<String>, hint: Option<String>) {
        self.list.push(Diagnostic::at(
            Severity::Warning,
            at.clone(),
            message.into(),
            hint,
        ));
    }

    /// Records a ready diagnostic.
    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.list.push(diagnostic);
    }

    /// Whether any error was recorded.
    pub(super) fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    /// Every problem, in file order (the order files were read), then by position.
    pub(super) fn into_sorted(self, files: &[Arc<Path>]) -> Vec<Diagnostic> {
        let mut list = self.list;
        let rank = |d: &Diagnostic| {
            files
                .iter()
                .position(|f| f.as_ref() == d.file.as_path())
                .unwrap_or(usize::MAX)
        };
        list.sort_by_key(|d| (rank(d), d.line, d.column));
        list
    }
}

/// Why a topology could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The file (or folder) could not be read.
    #[error("{}: cannot read the topology: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{}: the file is {size} bytes; topologies are limited to {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (for a pipe or device, which has none, the bytes read before it was
        /// refused).
        size: u64,
    },
    /// The file is not valid YAML (or a parser budget ran out).
    #[error("{}", .0)]
    Syntax(Diagnostic),
    /// The YAML has problems: every error found, and the warnings, in file order.
    #[error("{}", list(.0))]
    Invalid(Vec<Diagnostic>),
}

impl TopologyError {
    /// Returns every located problem (empty for read errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            TopologyError::Syntax(d) => std::slice::from_ref(d),
            TopologyError::Invalid(ds) => ds,
            TopologyError::Read { .. } | TopologyError::TooLarge { .. } => &[],
        }
    }
}

fn list(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
