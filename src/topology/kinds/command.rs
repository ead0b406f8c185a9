//! The `command` kind: a tool that runs a program from an argv template filled with the
//! call's arguments (`baton::tool::command`). No shell: each argument stays one argument,
//! whatever it holds. The environment holds only the variables the file lists.
//!
//! ```yaml
//! - name: word_count
//!   description: Counts the words of a text.
//!   parameters:
//!     type: object
//!     properties: { text: { type: string } }
//!     required: [text]
//!   command:
//!     argv: [wc, -w]
//!     stdin: "{text}"
//!     env: [PATH]
//!   timeout: 5s
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;

use super::bytes::Bytes;
use super::parameters::{RawSignature, StringMap};
use super::{Agents, Declared, Kind, RawToolOptions, Start, dynamic_start};
use crate::tool::command::{CommandField, CommandTool, CommandToolSpec};
use crate::topology::diagnostic::{Place, Problems};
use crate::topology::read::{Fields, FromNode, Located, Reader};
use crate::topology::tree::{Node, Value};

/// The stdout kept of a call when the file sets no cap.
pub(crate) const DEFAULT_MAX_STDOUT: usize = 1 << 20;
/// The stderr kept of a call when the file sets no cap.
pub(crate) const DEFAULT_MAX_STDERR: usize = 64 << 10;

pub(super) const KIND: Kind = Kind {
    key: "command",
    read,
    schema: |generator| generator.subschema_for::<RawCommandTool>(),
};

/// A tool that runs a program.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommandTool {
    #[serde(flatten)]
    signature: RawSignature,
    /// The program and how it runs.
    #[schemars(required)]
    command: Option<RawCommand>,
    #[serde(flatten)]
    options: RawToolOptions,
    /// The checked tool (`None` if the file has a problem, already reported).
    #[serde(skip)]
    tool: Option<Arc<CommandTool>>,
}

/// A command tool's program.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    /// The program and its arguments: `[grep, -n, "{pattern}", "{file}"]`. The first is the
    /// program (looked up on `PATH` when it has no `/`), fixed by the file. Each item is one
    /// argument: `{name}` is replaced by that argument's value and never split or run by a
    /// shell; an item that is exactly `{name}` is left out when the argument is, and becomes
    /// one argument per item when the argument is a list.
    #[schemars(required)]
    argv: Option<Located<Vec<Located<String>>>>,
    /// The folder it runs in, relative to this file (default: Baton's working directory).
    working_dir: Option<Located<String>>,
    /// The environment variables passed on from Baton's environment (nothing else is).
    #[serde(default)]
    env: Vec<Located<String>>,
    /// Variables set for the program.
    set_env: Option<StringMap>,
    /// What the program reads on stdin, a template (default: nothing).
    stdin: Option<Located<String>>,
    /// The most of stdout kept (default `1MiB`); the rest is read and counted, not kept.
    max_stdout_bytes: Option<Bytes>,
    /// The most of stderr kept (default `64KiB`).
    max_stderr_bytes: Option<Bytes>,
}

fn read(mut f: Fields<'_, '_, '_>) -> Option<Box<dyn Declared>> {
    let signature = RawSignature::read(&mut f);
    let command = f.required("command");
    let options = RawToolOptions::read(&mut f);
    let mut tool = RawCommandTool {
        signature,
        command,
        options,
        tool: None,
    };
    tool.tool = build(&tool, f.reader);
    f.finish();
    Some(Box::new(tool))
}

impl FromNode for RawCommand {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a command")?;
        let written = f.node("argv").map(|argv| match &argv.value {
            Value::Seq(items) => items.len(),
            _ => 0,
        });
        // An item that could not be read is reported already; checking the rest would
        // report the list as shorter than it is.
        let argv = f
            .required::<Located<Vec<Located<String>>>>("argv")
            .filter(|argv| Some(argv.value.len()) == written);
        let command = RawCommand {
            argv,
            working_dir: f.get("working_dir"),
            env: f.get("env").unwrap_or_default(),
            set_env: f.get("set_env"),
            stdin: f.get("stdin"),
            max_stdout_bytes: f.get("max_stdout_bytes"),
            max_stderr_bytes: f.get("max_stderr_bytes"),
        };
        f.finish();
        Some(command)
    }
}

/// Builds the tool, reporting each problem of the spec at the field it comes from.
fn build(raw: &RawCommandTool, r: &mut Reader<'_>) -> Option<Arc<CommandTool>> {
    let (Some(name), Some(command)) = (&raw.signature.name, &raw.command) else {
        return None;
    };
    let argv = command.argv.as_ref()?;
    // A relative folder is the topology file's neighbour, wherever Baton runs.
    let folder = r.file.parent().map(PathBuf::from).unwrap_or_default();
    let spec = CommandToolSpec {
        name: name.value.clone(),
        description: raw.signature.description.clone().unwrap_or_default(),
        parameters: raw.signature.schema(),
        argv: argv.value.iter().map(|a| a.value.clone()).collect(),
        working_dir: command
            .working_dir
            .as_ref()
            .map(|dir| folder.join(&dir.value)),
        env: command.env.iter().map(|e| e.value.clone()).collect(),
        set_env: command
            .set_env
            .iter()
            .flat_map(|m| &m.entries)
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        stdin: command.stdin.as_ref().map(|s| s.value.clone()),
        max_stdout_bytes: command.max_stdout_bytes.map_or(DEFAULT_MAX_STDOUT, |b| b.0),
        max_stderr_bytes: command.max_stderr_bytes.map_or(DEFAULT_MAX_STDERR, |b| b.0),
    };
    let env = r.env();
    match CommandTool::new(spec, &|var| env.secret(var)) {
        Ok(tool) => Some(Arc::new(tool)),
        Err(problems) => {
            for problem in problems {
                let at = place_of(&problem.field, raw, command, argv, &name.at);
                r.problems.error(
                    &at,
                    format!("tool `{}`: {}", name.value, problem.message),
                    problem.hint,
                );
            }
            None
        }
    }
}

/// Where the field a problem names is written.
fn place_of(
    field: &CommandField,
    raw: &RawCommandTool,
    command: &RawCommand,
    argv: &Located<Vec<Located<String>>>,
    name: &Place,
) -> Place {
    let at = match field {
        CommandField::Argv(i) => Some(argv.value.get(*i).map_or(&argv.at, |a| &a.at).clone()),
        CommandField::WorkingDir => command.working_dir.as_ref().map(|d| d.at.clone()),
        CommandField::Env(var) => command
            .env
            .iter()
            .find(|e| e.value == *var)
            .map(|e| e.at.clone()),
        CommandField::SetEnv(var) => command
            .set_env
            .iter()
            .flat_map(|m| &m.entries)
            .find(|(k, _)| k.value == *var)
            .map(|(k, _)| k.at.clone()),
        CommandField::Stdin => command.stdin.as_ref().map(|s| s.at.clone()),
        CommandField::Parameters => raw.signature.schema_at().cloned(),
    };
    at.unwrap_or_else(|| name.clone())
}

impl Declared for RawCommandTool {
    fn name(&self) -> Option<&Located<String>> {
        self.signature.name.as_ref()
    }

    fn options(&self) -> &RawToolOptions {
        &self.options
    }

    fn resolve(&self, _: &mut Problems, _: &Agents<'_>) -> Option<Arc<dyn Start>> {
        dynamic_start(self.tool.as_ref())
    }
}
