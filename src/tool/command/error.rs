//! `CommandSpecError`: what is wrong with a command tool's declaration, and which field.
//!
//! These are build-time errors ([`CommandTool::new`](super::CommandTool::new) returns every
//! one at once), so a YAML reader can point each at its line. A call that fails once the tool
//! runs is a [`ToolError`](crate::tool::ToolError) output instead, which the model reads.

/// One problem with a [`CommandToolSpec`](super::CommandToolSpec).
///
/// The message says what is wrong; it never holds the value of an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CommandSpecError {
    /// The field at fault.
    pub field: CommandField,
    /// What is wrong (lowercase, no trailing period).
    pub message: String,
    /// How to fix it, where there is something to say (the known argument names, say).
    pub hint: Option<String>,
}

impl CommandSpecError {
    /// A problem with `field`.
    pub(super) fn new(field: CommandField, message: impl Into<String>) -> Self {
        CommandSpecError {
            field,
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem, with a hint.
    pub(super) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Which field of a [`CommandToolSpec`](super::CommandToolSpec) a [`CommandSpecError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandField {
    /// `argv[i]` (`Argv(0)` also when argv is empty).
    Argv(usize),
    /// `working_dir`.
    WorkingDir,
    /// The entry of `env` with this name.
    Env(String),
    /// The entry of `set_env` with this name.
    SetEnv(String),
    /// `stdin`.
    Stdin,
    /// `parameters`.
    Parameters,
}
