//! Reading a topology's files: one file, or a folder whose `topology.yaml` lists one file per
//! agent (`agents: - file: agents/billing.yaml`), the way Google ADK's agent configs refer to
//! sub-agents.
//!
//! Agent files are confined to the topology's folder: a path must be relative, stay inside
//! the folder (no `..`), and end in `.yaml` or `.yml`. Every file is held to
//! [`MAX_FILE_BYTES`], and a topology to [`MAX_AGENT_FILES`] agent files; agent files cannot
//! list other files, so there are no include cycles.

use std::fs::File;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::{Place, Problems, TopologyError};
use super::env::Lookup;
use super::raw::{RawAgent, RawAgentEntry, RawTopology};
use super::read::{FromNode, Located, Reader};
use super::{MAX_FILE_BYTES, tree};

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
    pub(super) problems: Problems,
}

/// Resolves `path` (a file, or a folder holding [`FOLDER_FILE`]) and reads the topology file.
pub(super) fn read_path(path: &Path) -> Result<(PathBuf, Option<PathBuf>, String), TopologyError> {
    let (file, folder) = if path.is_dir() {
        (path.join(FOLDER_FILE), Some(path.to_owned()))
    } else {
        (path.to_owned(), None)
    };
    let text = read_capped(&file)?;
    Ok((file, folder, text))
}

/// Reads a file, refusing files over [`MAX_FILE_BYTES`] before reading them.
///
/// The size a file's metadata gives is only a promise: a pipe or a device (`/dev/zero`, or an
/// agent file that links to one) has none, so the read itself stops past the cap too.
fn read_capped(path: &Path) -> Result<String, TopologyError> {
    let read = |error| TopologyError::Read {
        path: path.to_owned(),
        error,
    };
    let too_large = |size| TopologyError::TooLarge {
        path: path.to_owned(),
        size,
    };
    let file = File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
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
    Ok(Loaded {
        main,
        folder,
        files,
        raw,
        agents,
        agents_at,
        problems,
    })
}

/// Reads one agent file; `None` if it could not be read at all (reported).
fn agent_file(
    base: &Path,
    name: &Located<String>,
    env: Lookup<'_>,
    problems: &mut Problems,
) -> Option<(Arc<Path>, Option<Located<RawAgent>>)> {
    let relative = Path::new(&name.value);
    if let Some(problem) = unsafe_path(relative) {
        problems.error(
            &name.at,
            format!("agent file `{}` {problem}", name.value),
            Some("agent files live in the topology's folder: `agents/billing.yaml`".to_owned()),
        );
        return None;
    }
    let path = base.join(relative);
    let text = match read_capped(&path) {
        Ok(text) => text,
        Err(e) => {
            let message = match e {
                TopologyError::Read { error, .. } => {
                    format!("cannot read agent file `{}`: {error}", name.value)
                }
                other => other.to_string(),
            };
            problems.error(&name.at, message, None);
            return None;
        }
    };
    let path: Arc<Path> = Arc::from(path.as_path());
    let root = match tree::parse(&text, &path) {
        Ok(root) => root,
        Err(diagnostic) => {
            problems.push(diagnostic);
            return Some((path, None));
        }
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

/// Why an agent file path is refused, if it is.
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
