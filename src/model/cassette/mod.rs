//! Record and replay: a [`Cassette`] holds every model exchange of a run (what was sent, what
//! came back); a [`Recorder`] wraps a model and fills one, a [`Replay`] answers from one, so a
//! run recorded live replays without the model, and a request that no longer matches what
//! was recorded (a changed prompt, tool set or conversation) fails with what differs.
//!
//! # The file
//!
//! JSON Lines, UTF-8. The first line is the header, then one line per exchange, in the order
//! their answers arrived:
//!
//! ```text
//! {"baton_cassette":1,"baton":"0.1.0"}
//! {"model":"default","agent":"triage","agent_turn":0,"run_turn":0,"request":{...},"response":{...}}
//! ```
//!
//! - Header: `baton_cassette` is the format version (this Baton reads and writes `1`);
//!   `baton` the version that wrote it; other fields are ignored.
//! - Exchange: `model` (the model entry's name), `agent`, `agent_turn` (0 for the agent's
//!   first request of the run), `run_turn` (0 for the run's first request, across agents),
//!   `takes_images` (only when `true`), `request` (`instructions`, `input` items,
//!   `tools` (`name`, `description`, `parameters`), `parallel_tool_calls`, the agent's
//!   `settings`), and either `response` (`output` items, `usage`) or `error` (`kind`, such as
//!   `api`, with its fields: `status`, `code`, `message`, `retry_after` as `"2s"`), enough to
//!   give the same [`ModelError`] back. Unknown fields in an exchange are errors.
//!
//! Items have the Responses API's shape ([`Item`]). A request never holds an API key (keys
//! travel in headers, which are not recorded), so neither does a cassette; it does hold the
//! conversation, as the API received it.

mod diff;
mod format;
mod recorder;
mod replay;

pub use recorder::Recorder;
pub use replay::Replay;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::{FunctionTool, ModelError, ModelRequest, ModelResponse, ModelSettings, SharedModel};
use crate::item::Item;

/// One model exchange: who asked, what was sent, and what came back.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exchange {
    /// The model entry that answered (`default`; `scripted` for a topology's scripted turns
    /// when an agent names no model).
    pub model: String,
    /// The agent that asked.
    pub agent: String,
    /// The agent's requests before this one in its run (0 for its first).
    pub agent_turn: u32,
    /// The run's requests before this one, across agents (0 for the first).
    pub run_turn: u32,
    /// Whether the model took images, which decides how tool images reach it.
    pub takes_images: bool,
    /// The agent's instructions.
    pub instructions: String,
    /// The conversation sent.
    pub input: Vec<Item>,
    /// The function tools offered.
    pub tools: Vec<FunctionTool>,
    /// Whether several calls in one turn were allowed.
    pub parallel_tool_calls: bool,
    /// The agent's settings.
    pub settings: ModelSettings,
    /// What the model answered, or how it failed.
    pub outcome: Result<ModelResponse, ModelError>,
}

impl Exchange {
    /// The exchange of `request` to model entry `model`, with its outcome.
    fn new(
        model: &str,
        takes_images: bool,
        request: &ModelRequest<'_>,
        outcome: Result<ModelResponse, ModelError>,
    ) -> Self {
        Exchange {
            model: model.to_owned(),
            agent: request.context.agent.to_owned(),
            agent_turn: request.context.agent_turn,
            run_turn: request.context.run_turn,
            takes_images,
            instructions: request.instructions.to_owned(),
            input: request.input.to_vec(),
            tools: request.tools.to_vec(),
            parallel_tool_calls: request.parallel_tool_calls,
            settings: request.settings.clone(),
            outcome,
        }
    }
}

/// Why a cassette could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassetteError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The cassette file.
        file: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A line is not what the format says.
    #[error("{}:{line}:{column}: {reason}", file.display())]
    Line {
        /// The cassette file.
        file: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The 1-based column (1 when the whole line is at fault).
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Every model exchange of one or more runs, shared by the [`Recorder`]s that fill it (one
/// per model entry, so one file holds a whole run) and read by [`Replay`].
///
/// A handle: clones share the same exchanges. Exchanges are kept in memory, in the order
/// their answers arrived, until [`Cassette::save`] writes them (it may be called again later
/// to write the ones added since, with the earlier ones).
///
/// ```
/// use std::sync::Arc;
/// use baton::{Agent, Swarm};
/// use baton::model::{Cassette, ScriptedModel, ScriptedTurn};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let script = ScriptedModel::new().with_agent("bot", [ScriptedTurn::text("hello")]);
/// let cassette = Cassette::new();
/// let recorder = cassette.recorder("default", Arc::new(script));
/// let swarm = Swarm::builder()
///     .agent(Agent::new("bot").with_instructions("Greet."))
///     .model(Arc::new(recorder))
///     .start()?;
/// let runtime = tokio::runtime::Runtime::new()?;
/// let live = runtime.block_on(swarm.run("bot", "hi"))?;
/// runtime.block_on(swarm.shutdown());
/// assert_eq!(cassette.len(), 1);
///
/// // The same run, answered by the cassette alone.
/// let replayed = Swarm::builder()
///     .agent(Agent::new("bot").with_instructions("Greet."))
///     .model(Arc::new(cassette.replay()))
///     .start()?;
/// let again = runtime.block_on(replayed.run("bot", "hi"))?;
/// assert_eq!(again.transcript, live.transcript);
///
/// // Other instructions: flagged, not answered.
/// let changed = Swarm::builder()
///     .agent(Agent::new("bot").with_instructions("Greet warmly."))
///     .model(Arc::new(cassette.replay()))
///     .start()?;
/// let error = runtime.block_on(changed.run("bot", "hi")).unwrap_err();
/// assert!(error.to_string().contains("instructions differ"), "{error}");
/// runtime.block_on(replayed.shutdown());
/// runtime.block_on(changed.shutdown());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cassette {
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Cassette {
    /// An empty cassette.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cassette holding `exchanges`, in this order.
    pub fn from_exchanges(exchanges: impl IntoIterator<Item = Exchange>) -> Self {
        Cassette {
            exchanges: Arc::new(Mutex::new(exchanges.into_iter().collect())),
        }
    }

    /// Wraps `inner`, the model of entry `model`, so that each of its exchanges is added here.
    pub fn recorder(&self, model: impl Into<String>, inner: SharedModel) -> Recorder {
        Recorder::new(self.clone(), model.into(), inner)
    }

    /// A model answering from the exchanges held now, whatever their model entry
    /// ([`Replay::for_model`] narrows it to one).
    pub fn replay(&self) -> Replay {
        Replay::new(self.exchanges())
    }

    /// The exchanges so far, in the order their answers arrived.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().clone()
    }

    /// How many exchanges it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Adds one exchange at the end.
    pub fn push(&self, exchange: Exchange) {
        self.lock().push(exchange);
    }

    /// Never held across an `.await`; a poisoned list is still a list.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Exchange>> {
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the cassette file at `path`.
    ///
    /// # Errors
    ///
    /// [`CassetteError::Io`] when it cannot be read; [`CassetteError::Line`] (file, line and
    /// column) for a missing or unknown header, a version this Baton does not read, or an
    /// exchange that is not JSON or not of the format.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let io = |source| CassetteError::Io {
            file: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        Self::read(std::io::BufReader::new(file), path)
    }

    /// Reads a cassette from `reader`; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Cassette::load`].
    pub fn read(reader: impl BufRead, file: &Path) -> Result<Self, CassetteError> {
        let bad = |line: usize, column: usize, reason: String| CassetteError::Line {
            file: file.to_owned(),
            line,
            column,
            reason,
        };
        let mut exchanges = Vec::new();
        let mut header_seen = false;
        for (index, text) in reader.lines().enumerate() {
            let number = index + 1;
            let text = text.map_err(|source| CassetteError::Io {
                file: file.to_owned(),
                source,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            let json = |e: serde_json::Error| bad(number, e.column().max(1), json_reason(&e));
            if !header_seen {
                let header: format::Header = serde_json::from_str(&text).map_err(|_| {
                    bad(
                        number,
                        1,
                        format!(
                            "not a Baton cassette: the first line must be {{\"baton_cassette\": {}, ...}}",
                            format::VERSION
                        ),
                    )
                })?;
                if header.baton_cassette != format::VERSION {
                    return Err(bad(
                        number,
                        1,
                        format!(
                            "cassette format {} is not supported (this Baton reads format {})",
                            header.baton_cassette,
                            format::VERSION
                        ),
                    ));
                }
                header_seen = true;
                continue;
            }
            let line: format::Line = serde_json::from_str(&text).map_err(json)?;
            let exchange =
                format::from_line(line).map_err(|reason| bad(number, 1, reason.to_owned()))?;
            exchanges.push(exchange);
        }
        if !header_seen {
            return Err(bad(
                1,
                1,
                "empty file: a cassette starts with a {\"baton_cassette\": 1} line".to_owned(),
            ));
        }
        Ok(Self::from_exchanges(exchanges))
    }

    /// Writes the header and every exchange so far to `path`, replacing the file. The file is
    /// written beside it first and then renamed, so a reader never sees half a cassette.
    ///
    /// # Errors
    ///
    /// [`CassetteError::Io`] when it cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        let path = path.as_ref();
        let io = |source| CassetteError::Io {
            file: path.to_owned(),
            source,
        };
        // Beside it, named for this process: two processes saving one path never share it.
        let mut partial = path.as_os_str().to_owned();
        partial.push(format!(".{}.partial", std::process::id()));
        let partial = PathBuf::from(partial);
        let written = std::fs::File::create(&partial).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            self.write(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        });
        if let Err(error) = written.and_then(|()| std::fs::rename(&partial, path)) {
            let _ = std::fs::remove_file(&partial);
            return Err(io(error));
        }
        Ok(())
    }

    /// Writes the header and every exchange so far to `out`, one JSON object a line.
    ///
    /// # Errors
    ///
    /// What `out` returns.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, &format::Header::current())?;
        out.write_all(b"\n")?;
        for exchange in self.lock().iter() {
            serde_json::to_writer(&mut *out, &format::to_line(exchange))?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

/// serde_json's message without its own "at line 1 column N" (the error says where).
fn json_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Cassette, CassetteError> {
        Cassette::read(text.as_bytes(), Path::new("run.cassette"))
    }

    const EXCHANGE: &str = r#"{"model":"m","agent":"a","agent_turn":0,"run_turn":0,"request":{"instructions":"Be brief.","input":[{"type":"message","role":"user","content":"hi"}],"tools":[],"parallel_tool_calls":true},"response":{"output":[{"type":"message","role":"assistant","content":"hello"}]}}"#;

    #[test]
    fn a_written_cassette_reads_back_the_same() {
        let cassette = read(&format!("{{\"baton_cassette\":1}}\n{EXCHANGE}\n")).unwrap();
        assert_eq!(cassette.len(), 1);
        let mut text = Vec::new();
        cassette.write(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                format!(
                    r#"{{"baton_cassette":1,"baton":"{}"}}"#,
                    env!("CARGO_PKG_VERSION")
                )
                .as_str()
            )
        );
        let again = read(&text).unwrap();
        let (a, b) = (&cassette.exchanges()[0], &again.exchanges()[0]);
        assert_eq!(a.input, b.input);
        assert_eq!(a.instructions, "Be brief.");
        assert_eq!(
            b.outcome.as_ref().unwrap().output,
            [Item::assistant("hello")]
        );
    }

    #[test]
    fn bad_cassettes_are_refused_with_file_line_and_column() {
        let error = |text: &str| read(text).unwrap_err().to_string();
        assert_eq!(
            error(""),
            "run.cassette:1:1: empty file: a cassette starts with a {\"baton_cassette\": 1} line"
        );
        assert_eq!(
            error("{\"model\":\"m\"}\n"),
            "run.cassette:1:1: not a Baton cassette: the first line must be {\"baton_cassette\": 1, ...}"
        );
        assert_eq!(
            error("{\"baton_cassette\":2}\n"),
            "run.cassette:1:1: cassette format 2 is not supported (this Baton reads format 1)"
        );
        let truncated = &EXCHANGE[..EXCHANGE.len() - 3];
        assert_eq!(
            error(&format!("{{\"baton_cassette\":1}}\n\n{truncated}\n")),
            format!(
                "run.cassette:3:{}: EOF while parsing a list",
                truncated.len()
            )
        );
        let typo = EXCHANGE.replace("\"agent_turn\"", "\"agent_trun\"");
        assert!(
            error(&format!("{{\"baton_cassette\":1}}\n{typo}\n")).starts_with("run.cassette:2:"),
        );
        assert!(
            error(&format!("{{\"baton_cassette\":1}}\n{typo}\n"))
                .contains("unknown field `agent_trun`"),
        );
        let both = EXCHANGE.replace(
            "\"response\"",
            "\"error\":{\"kind\":\"other\",\"message\":\"x\"},\"response\"",
        );
        assert_eq!(
            error(&format!("{{\"baton_cassette\":1}}\n{both}\n")),
            "run.cassette:2:1: an exchange has either `response` or `error`, not both"
        );
    }

    #[test]
    fn a_cassette_is_saved_whole_and_loaded_from_its_file() {
        let dir = std::env::temp_dir().join(format!("baton-cassette-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.cassette");
        let cassette = read(&format!(
            "{{\"baton_cassette\":1}}\n{EXCHANGE}\n{EXCHANGE}\n"
        ))
        .unwrap();
        cassette.save(&path).unwrap();
        assert_eq!(Cassette::load(&path).unwrap().len(), 2);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run.cassette"], "no partial file is left");
        let missing = Cassette::load(dir.join("nope.cassette")).unwrap_err();
        assert!(matches!(missing, CassetteError::Io { .. }), "{missing}");
        assert!(missing.to_string().contains("nope.cassette"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
