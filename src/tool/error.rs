//! `ToolError`: every way a single tool call can fail.
//!
//! These are values, not failed runs (DESIGN rule 6): the turn loop turns each into the text of
//! that call's `function_call_output` (`error: <message>`), so the model can read it and try
//! again, and the other calls of the turn are unaffected.

use std::time::Duration;

/// Why one tool call produced no result. Sent to the model as `error: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The model called a tool this agent does not have.
    #[error("unknown tool `{tool}`; agent `{agent}` can call: {available}")]
    UnknownTool {
        /// The name the model used.
        tool: String,
        /// The agent that was asked.
        agent: String,
        /// The agent's tool names, comma separated (or `no tools`).
        available: String,
    },
    /// The arguments are not JSON, or do not fit the tool's schema.
    #[error("invalid arguments for tool `{tool}`: {message}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// What is wrong, with JSON paths.
        message: String,
    },
    /// The tool ran and returned an error.
    #[error("tool `{tool}` failed: {message}")]
    Failed {
        /// The tool.
        tool: String,
        /// The tool's error.
        message: String,
    },
    /// The tool panicked; its worker was given a fresh instance.
    #[error("tool `{tool}` panicked: {message}")]
    Panicked {
        /// The tool.
        tool: String,
        /// The panic message.
        message: String,
    },
    /// The call took longer than its timeout.
    #[error("tool `{tool}` timed out after {} ms", after.as_millis())]
    TimedOut {
        /// The tool.
        tool: String,
        /// The timeout.
        after: Duration,
    },
    /// The model asked for more calls in one turn than
    /// [`Limits::max_calls_per_turn`](crate::Limits::max_calls_per_turn) allows; this one
    /// was not run.
    #[error(
        "call {position} of this turn (to `{tool}`) was not run: a turn may ask for at most {cap} calls (max_calls_per_turn); ask for the rest in the next turn"
    )]
    PastTurnCap {
        /// The function the call named.
        tool: String,
        /// Its 1-based position among the turn's calls.
        position: usize,
        /// The cap.
        cap: usize,
    },
    /// The tool's worker could not take the call (it stopped, or the swarm is shutting down).
    #[error("tool `{tool}` is unavailable: {reason}")]
    Unavailable {
        /// The tool.
        tool: String,
        /// Why.
        reason: String,
    },
}

/// What kind of error output a call got, for counting them (a simulation's report, the
/// timeline): the [`ToolError`] variant, or [`ToolErrorKind::Handoff`] for a handoff call that
/// did not move the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// [`ToolError::UnknownTool`].
    UnknownTool,
    /// [`ToolError::InvalidArguments`].
    InvalidArguments,
    /// [`ToolError::Failed`].
    Failed,
    /// [`ToolError::Panicked`].
    Panicked,
    /// [`ToolError::TimedOut`].
    TimedOut,
    /// [`ToolError::PastTurnCap`].
    PastTurnCap,
    /// [`ToolError::Unavailable`].
    Unavailable,
    /// A handoff call that was refused, ignored or malformed.
    Handoff,
}

impl ToolErrorKind {
    /// Every kind, in order.
    pub const ALL: [ToolErrorKind; 8] = [
        ToolErrorKind::UnknownTool,
        ToolErrorKind::InvalidArguments,
        ToolErrorKind::Failed,
        ToolErrorKind::Panicked,
        ToolErrorKind::TimedOut,
        ToolErrorKind::PastTurnCap,
        ToolErrorKind::Unavailable,
        ToolErrorKind::Handoff,
    ];

    /// Its name in files and reports: `unknown_tool`, `invalid_arguments`, `failed`,
    /// `panicked`, `timed_out`, `past_turn_cap`, `unavailable`, `handoff`.
    pub fn name(self) -> &'static str {
        match self {
            ToolErrorKind::UnknownTool => "unknown_tool",
            ToolErrorKind::InvalidArguments => "invalid_arguments",
            ToolErrorKind::Failed => "failed",
            ToolErrorKind::Panicked => "panicked",
            ToolErrorKind::TimedOut => "timed_out",
            ToolErrorKind::PastTurnCap => "past_turn_cap",
            ToolErrorKind::Unavailable => "unavailable",
            ToolErrorKind::Handoff => "handoff",
        }
    }

    /// The kind named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for ToolErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl ToolError {
    /// Its kind.
    pub fn kind(&self) -> ToolErrorKind {
        match self {
            ToolError::UnknownTool { .. } => ToolErrorKind::UnknownTool,
            ToolError::InvalidArguments { .. } => ToolErrorKind::InvalidArguments,
            ToolError::Failed { .. } => ToolErrorKind::Failed,
            ToolError::Panicked { .. } => ToolErrorKind::Panicked,
            ToolError::TimedOut { .. } => ToolErrorKind::TimedOut,
            ToolError::PastTurnCap { .. } => ToolErrorKind::PastTurnCap,
            ToolError::Unavailable { .. } => ToolErrorKind::Unavailable,
        }
    }

    /// A [`ToolError::Failed`]: tool `tool` ran and failed with `message`.
    ///
    /// ```
    /// let error = baton::tool::ToolError::failed("weather", "no such city");
    /// assert_eq!(error.to_output(), "error: tool `weather` failed: no such city");
    /// ```
    pub fn failed(tool: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError::Failed {
            tool: tool.into(),
            message: message.into(),
        }
    }

    /// Returns the text sent to the model as this call's output.
    pub fn to_output(&self) -> String {
        format!("error: {self}")
    }

    /// Whether an idempotent tool may be called again after this error.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(
            self,
            ToolError::Failed { .. } | ToolError::TimedOut { .. } | ToolError::Unavailable { .. }
        )
    }
}

/// Extracts the message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
