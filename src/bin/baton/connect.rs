//! `baton check --connect`: start each tool source a topology declares (its MCP servers),
//! show which tools it exposes under which names and which it left out, then stop it. A
//! source that cannot start or list is an error.

use std::sync::Arc;

use baton::tool::ToolSource;
use baton::topology::Topology;
use serde_json::json;

/// What starting one source showed.
pub(crate) struct Connection {
    file: String,
    source: String,
    /// Its notes (`name -> exposed`, `name: left out ...`), or why it could not start.
    outcome: Result<Vec<String>, String>,
}

impl Connection {
    pub(crate) fn failed(&self) -> bool {
        self.outcome.is_err()
    }

    /// For `--format text`.
    pub(crate) fn text(&self) -> String {
        match &self.outcome {
            Ok(notes) => {
                let exposed = notes.iter().filter(|n| n.contains(" -> ")).count();
                let mut out = format!(
                    "{}: tool source `{}`: {exposed} tool{} exposed\n",
                    self.file,
                    self.source,
                    if exposed == 1 { "" } else { "s" }
                );
                for note in notes {
                    out.push_str(&format!("    {note}\n"));
                }
                out
            }
            Err(why) => format!("error: {}: {why}\n", self.file),
        }
    }

    /// For `--format json`.
    pub(crate) fn json(&self) -> serde_json::Value {
        match &self.outcome {
            Ok(notes) => {
                json!({"file": self.file, "source": self.source, "ok": true, "notes": notes})
            }
            Err(why) => {
                json!({"file": self.file, "source": self.source, "ok": false, "error": why})
            }
        }
    }
}

/// Starts and stops every tool source of `topology`, one after the other.
pub(crate) fn connect(topology: &Topology) -> anyhow::Result<Vec<Connection>> {
    let sources = topology.tool_sources();
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let file = topology.path().display().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async {
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            out.push(Connection {
                file: file.clone(),
                source: source.name().to_owned(),
                outcome: start_and_stop(&source).await,
            });
        }
        out
    }))
}

async fn start_and_stop(source: &Arc<dyn ToolSource>) -> Result<Vec<String>, String> {
    match source.start().await {
        Ok(_) => {
            let notes = source.notes();
            source.stop().await;
            Ok(notes)
        }
        Err(e) => Err(e.to_string()),
    }
}
