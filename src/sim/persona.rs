//! The user side of a simulated conversation: which persona comes (by weight), what it says
//! first, and what it says after each answer: its fixed replies in order, or what a model
//! playing it writes (as Google ADK's user simulator does: the persona's description and
//! plan as instructions, the conversation with the roles turned round).

use std::collections::HashMap;

use super::chance::Chance;
use super::spec::{Persona, PersonaModel, SimSpec};
use crate::item::{Item, Role};
use crate::model::{ModelRequest, ModelSettings, RequestContext, SharedModel};

/// The personas of a simulation and the models that play some of them.
#[derive(Clone)]
pub(crate) struct Users {
    personas: Vec<Persona>,
    /// Model entry name -> the model that plays personas naming it.
    models: HashMap<String, SharedModel>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("personas", &self.personas.len())
            .finish_non_exhaustive()
    }
}

impl Users {
    pub(crate) fn new(personas: Vec<Persona>, models: HashMap<String, SharedModel>) -> Self {
        Users { personas, models }
    }

    /// The persona of conversation `index` (none if none is declared) and its opening.
    pub(crate) fn opening(&self, chance: &Chance, index: u32) -> (Option<&Persona>, String) {
        let n = index.to_le_bytes();
        if self.personas.is_empty() {
            return (None, SimSpec::DEFAULT_OPENING.to_owned());
        }
        let weights = self.personas.iter().map(|p| p.weight.max(0.0));
        let persona = &self.personas[Chance::pick(weights, chance.unit(&[b"persona", &n]))];
        let opening = match persona.openings.len() {
            0 => SimSpec::DEFAULT_OPENING.to_owned(),
            len => {
                let pick = Chance::pick(
                    std::iter::repeat_n(1.0, len),
                    chance.unit(&[b"opening", &n]),
                );
                persona.openings[pick].clone()
            }
        };
        (Some(persona), opening)
    }

    /// What `persona` says after the `replied`-th answer (0 for the first), given the
    /// conversation so far; `None` when it has nothing more to say. A model that plays the
    /// persona and fails is an error with its message.
    pub(crate) async fn reply(
        &self,
        persona: Option<&Persona>,
        replied: u32,
        transcript: &[Item],
        trace_id: &str,
    ) -> Result<Option<String>, String> {
        let Some(persona) = persona else {
            return Ok(None);
        };
        let Some(played) = &persona.model else {
            return Ok(persona.replies.get(replied as usize).cloned());
        };
        if replied >= played.max_replies {
            return Ok(None);
        }
        let Some(model) = self.models.get(&played.entry) else {
            return Err(format!(
                "persona `{}` is played by model `{}`, which the simulation was not given",
                persona.name, played.entry
            ));
        };
        let instructions = instructions(persona, played);
        let input = turned_round(transcript);
        let settings = ModelSettings::default();
        let agent = format!("persona:{}", persona.name);
        let request = ModelRequest {
            instructions: &instructions,
            input: &input,
            tools: &[],
            parallel_tool_calls: false,
            settings: &settings,
            context: RequestContext {
                agent: &agent,
                agent_turn: replied,
                run_turn: replied,
                trace_id,
                events: None,
            },
        };
        let response = model
            .respond(request)
            .await
            .map_err(|e| format!("persona `{}`: {e}", persona.name))?;
        let text = response.output_text();
        let text = text.trim();
        Ok((!text.is_empty() && text != PersonaModel::DONE).then(|| text.to_owned()))
    }
}

/// The instructions of a model playing `persona`.
fn instructions(persona: &Persona, played: &PersonaModel) -> String {
    format!(
        "You are role-playing a user who talks to an assistant; the assistant's messages are \
         the user messages you receive. Stay in character.\n\nWho you are:\n{}\n\nWhat you \
         want to get done:\n{}\n\nWrite only your next message to the assistant. When what \
         you wanted is done, or cannot be done, answer exactly {} and nothing else.",
        played.description.trim(),
        played.plan.trim(),
        PersonaModel::DONE,
    )
    .replace("{name}", &persona.name)
}

/// The conversation as the user sees it: its messages with the roles turned round (the
/// agent's answers become the input, the user's own words its earlier answers); tool calls
/// and reasoning are the agent's business and left out.
fn turned_round(transcript: &[Item]) -> Vec<Item> {
    transcript
        .iter()
        .filter_map(|item| match item {
            Item::Message {
                role: Role::User,
                content,
                ..
            } => Some(Item::assistant(content.clone())),
            Item::Message {
                role: Role::Assistant,
                content,
                ..
            } if !content.is_empty() => Some(Item::user(content.clone())),
            _ => None,
        })
        .collect()
}
