//! Reading a topology's files: one file, or a folder whose `topology.yaml` lists one file per
//! agent (`agents: - file: agents/billing.yaml`), the way Google ADK's agent configs refer to
//! sub-agents; and the file a `simulation:` names (`simulation: simulation.yaml`), if it
//! names one.
//!
//! Agent and simulation files are confined to the topology's folder: a path must be relative, stay inside
//! the folder (no `..`), still be inside it once symbolic links are resolved, and end in
//! `.yaml` or `.yml`. Only regular files are read (a named pipe or a device would block or
//! never end). Every file is held to [`MAX_FILE_BYTES`], and a topology to
//! [`MAX_AGENT_FILES`] agent files; agent files cannot list other files, so there are no
//! include cycles.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::{Place, Problems, TopologyError};
use super::env::{self, Env, Lookup};
use super::raw::{RawAgent, RawAgentEntry, RawTopology};
use super::raw_sim::{RawSimulation, RawSimulationEntry};
use super::read::{FromNode, Located, Reader};
use super::tree::{Node, Value};
use super::{MAX_FILE_BYTES, tree};
use crate::model::DEFAULT_API_KEY_ENV;

/// The file a folder topology starts from.
pub const FOLDER_FILE: &str = "topology.yaml";

/// At most this many agent files per topology.
pub const MAX_AGENT_FILES: usize = 1000;

/// Every file of a topology, read.
#[derive(Debug)]
pub(super) struct Loaded {
    /// The topology file (for a folder, its `topology.yaml`).
    pub(super) main: Arc<Path>,
    /// The folder, when a folder was given (it names the topology by default).
    pub(super) folder: Option<PathBuf>,
    /// Every file read, the topology file first.
    pub(super) files: Vec<Arc<Path>>,
    pub(super) raw: RawTopology,
    /// Every agent, from the topology file or its own file, in listed order.
    pub(super) agents: Vec<Located<RawAgent>>,
    /// Where `agents:` is, if given.
    pub(super) agents_at: Option<Place>,
    /// The `simulation:` section, from the topology file or its own file.
    pub(super) simulation: Option<RawSimulation>,
    pub(super) problems: Problems,
}

/// Resolves `path` (a file, or a folder holding [`FOLDER_FILE`]) and reads the topology file.
pub(super) fn read_path(path: &Path) -> Result<(PathBuf, Option<PathBuf>, String), TopologyError> {
    let (file, folder) = if path.is_dir() {
        (path.join(FOLDER_FILE), Some(path.to_owned()))
    } else {
        (path.to_owned(), None)
    };
    let read = |error| TopologyError::Read {
        path: file.clone(),
        error,
    };
    let text = match &folder {
        // A folder's `topology.yaml` is held to the folder like its agent files.
        Some(folder) => read_capped(&inside(folder, &file).map_err(read)?, &file)?,
        None => read_capped(&file, &file)?,
    };
    Ok((file, folder, text))
}

/// `path` with every symbolic link resolved, if that is still inside `folder` (resolved too).
///
/// A link that leads out of the folder is refused without being opened, and the error does
/// not name its target, so `ln -s /etc/passwd agents/x.yaml` shows nothing of that file.
/// The check and the later open are two steps: whoever can swap a link in between can write
/// in the folder, and so could write the file's text there anyway.
fn inside(folder: &Path, path: &Path) -> io::Result<PathBuf> {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let root = folder.canonicalize()?;
    let resolved = path.canonicalize()?;
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "it is a link that leads outside the topology's folder",
        ))
    }
}

/// Refuses what is not a regular file (after links): a named pipe would block the read until
/// a writer comes, a device may never end.
fn regular(metadata: &std::fs::Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a folder"
    } else {
        special_kind(kind)
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file ({what})"),
    ))
}

#[cfg(unix)]
fn special_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "a special file"
}

/// Reads the regular file at `path` (`shown` names it in errors), refusing anything else at
/// once and files over [`MAX_FILE_BYTES`] before reading them.
///
/// The type is checked before opening (opening a named pipe blocks until a writer comes), and
/// again on the opened file: a file swapped for another between the two steps is refused too,
/// though a swap to a pipe in that instant could still block the open. The size a file's
/// metadata gives is only a promise, so the read itself stops past the cap too.
fn read_capped(path: &Path, shown: &Path) -> Result<String, TopologyError> {
    let read = |error| TopologyError::Read {
        path: shown.to_owned(),
        error,
    };
    let too_large = |size| TopologyError::TooLarge {
        path: shown.to_owned(),
        size,
    };
    regular(&std::fs::metadata(path).map_err(read)?).map_err(read)?;
    let file = File::open(path).map_err(read)?;
    let metadata = file.metadata().map_err(read)?;
    regular(&metadata).map_err(read)?;
    let size = metadata.len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(text.len() as u64));
    }
    Ok(text)
}

/// Parses the topology file's `text`, then reads every agent file it lists.
///
/// # Errors
///
/// [`TopologyError::Syntax`] if the topology file itself is not valid YAML; every other
/// problem is collected in [`Loaded::problems`].
pub(super) fn load_text(
    text: &str,
    main: &Path,
    folder: Option<PathBuf>,
    env: Lookup<'_>,
) -> Result<Loaded, TopologyError> {
    let main: Arc<Path> = Arc::from(main);
    let root = tree::parse(text, &main).map_err(TopologyError::Syntax)?;
    let keys = key_variables(&root, env);
    let env = Env::new(env, &keys);
    let mut problems = Problems::default();
    let mut raw = {
        let mut reader = Reader::new(Arc::clone(&main), env, &mut problems);
        RawTopology::read(&root, &mut reader).unwrap_or_default()
    };
    let mut files = vec![Arc::clone(&main)];
    let mut agents = Vec::new();
    let base = main.parent().unwrap_or(Path::new(""));
    let mut file_count = 0;
    // Inline agents and agent files, in the order listed.
    let listed = raw.agents.take();
    let agents_at = listed.as_ref().map(|list| list.at.clone());
    for entry in listed.into_iter().flat_map(|list| list.value) {
        match entry.value {
            RawAgentEntry::Inline(agent) => agents.push(Located {
                value: *agent,
                at: entry.at,
            }),
            RawAgentEntry::File(file) => {
                let Some(name) = file.file else { continue };
                file_count += 1;
                if file_count > MAX_AGENT_FILES {
                    problems.error(
                        &name.at,
                        format!("a topology may list at most {MAX_AGENT_FILES} agent files"),
                        None,
                    );
                    break;
                }
                if let Some((path, agent)) = agent_file(base, &name, env, &mut problems) {
                    files.push(path);
                    agents.extend(agent);
                }
            }
        }
    }
    let simulation = match raw.simulation.take() {
        None => None,
        Some(Located {
            value: RawSimulationEntry::Inline(simulation),
            ..
        }) => Some(*simulation),
        Some(Located {
            value: RawSimulationEntry::File(file),
            at,
        }) => {
            let name = Located { value: file, at };
            simulation_file(base, &name, env, &mut problems).and_then(|(path, simulation)| {
                files.push(path);
                simulation
            })
        }
    };
    Ok(Loaded {
        main,
        folder,
        files,
        raw,
        agents,
        agents_at,
        simulation,
        problems,
    })
}

/// The variables models read their keys from: [`DEFAULT_API_KEY_ENV`] and every
/// `models[].api_key_env` (itself interpolated, as the reader will). They are found before
/// anything is read, so no `${...}` anywhere, even above `models:`, can read one.
fn key_variables(root: &Node, values: Lookup<'_>) -> Vec<String> {
    fn field<'n>(node: &'n Node, name: &str) -> Option<&'n Value> {
        let Value::Map(map) = &node.value else {
            return None;
        };
        map.iter()
            .find(|(key, _)| matches!(&key.value, Value::String(k) if k == name))
            .map(|(_, value)| &value.value)
    }
    let mut keys = vec![DEFAULT_API_KEY_ENV.to_owned()];
    let Some(Value::Seq(models)) = field(root, "models") else {
        return keys;
    };
    for model in models {
        let Some(Value::String(var)) = field(model, "api_key_env") else {
            continue;
        };
        let var = env::interpolate(var, Env::new(values, &[]))
            .map_or_else(|_| var.clone(), std::borrow::Cow::into_owned);
        keys.push(var);
    }
    // Sorted, for `Env`'s binary search.
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Reads one agent file; `None` if it could not be read at all (reported).
fn agent_file(
    base: &Path,
    name: &Located<String>,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<(Arc<Path>, Option<Located<RawAgent>>)> {
    let (path, root) = listed_file(base, name, AGENT_FILE, problems)?;
    let Some(root) = root else {
        return Some((path, None));
    };
    let mut reader = Reader::new(Arc::clone(&path), env, problems);
    let agent = RawAgent::read(&root, &mut reader).map(|agent| Located {
        value: agent,
        at: Place {
            file: Arc::clone(&path),
            line: root.at.line,
            column: root.at.column,
            len: 1,
        },
    });
    Some((path, agent))
}

/// Reads the file a `simulation:` names; `None` if it could not be read at all (reported).
fn simulation_file(
    base: &Path,
    name: &Located<String>,
    env: Env<'_>,
    problems: &mut Problems,
) -> Option<(Arc<Path>, Option<RawSimulation>)> {
    let (path, root) = listed_file(base, name, SIMULATION_FILE, problems)?;
    let Some(root) = root else {
        return Some((path, None));
    };
    let mut reader = Reader::new(Arc::clone(&path), env, problems);
    let simulation = RawSimulation::read(&root, &mut reader);
    Some((path, simulation))
}

/// What a file a topology names is, for messages.
struct FileRole {
    /// `agent file`.
    what: &'static str,
    /// Where such files live.
    hint: &'static str,
}

const AGENT_FILE: FileRole = FileRole {
    what: "agent file",
    hint: "agent files live in the topology's folder: `agents/billing.yaml`",
};

const SIMULATION_FILE: FileRole = FileRole {
    what: "simulation file",
    hint: "a simulation file lives in the topology's folder: `simulation.yaml`",
};

/// Reads and parses a file the topology names, held to its folder; `None` if it could not be
/// read (reported), a `None` tree if it is not valid YAML (reported).
fn listed_file(
    base: &Path,
    name: &Located<String>,
    role: FileRole,
    problems: &mut Problems,
) -> Option<(Arc<Path>, Option<Node>)> {
    let what = role.what;
    let relative = Path::new(&name.value);
    if let Some(problem) = unsafe_path(relative) {
        problems.error(
            &name.at,
            format!("{what} `{}` {problem}", name.value),
            Some(role.hint.to_owned()),
        );
        return None;
    }
    let path = base.join(relative);
    let text = match inside(base, &path)
        .map_err(|error| TopologyError::Read {
            path: path.clone(),
            error,
        })
        .and_then(|resolved| read_capped(&resolved, &path))
    {
        Ok(text) => text,
        Err(e) => {
            let message = match e {
                TopologyError::Read { error, .. } => {
                    format!("cannot read {what} `{}`: {error}", name.value)
                }
                other => other.to_string(),
            };
            problems.error(&name.at, message, None);
            return None;
        }
    };
    let path: Arc<Path> = Arc::from(path.as_path());
    match tree::parse(&text, &path) {
        Ok(root) => Some((path, Some(root))),
        Err(diagnostic) => {
            problems.push(diagnostic);
            Some((path, None))
        }
    }
}

/// Why a listed file's path (an agent file's, a simulation file's) is refused, if it is.
fn unsafe_path(path: &Path) -> Option<&'static str> {
    if path.as_os_str().is_empty() {
        return Some("is empty");
    }
    if path.is_absolute() || path.has_root() {
        return Some("must be relative to the topology file");
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Some("must stay inside the topology's folder (no `..`)");
    }
    let yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if !yaml {
        return Some("must end in `.yaml` or `.yml`");
    }
    None
}
