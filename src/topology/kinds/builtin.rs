//! The `builtin` kind: a tool that ships with Baton (`- builtin: add`), by name.

use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;

use super::{Agents, Declared, Kind, RawToolOptions, Start};
use crate::swarm::{SwarmBuilder, WeakSwarm};
use crate::tool::ToolOptions;
use crate::tool::builtin::{self, Register};
use crate::topology::diagnostic::Problems;
use crate::topology::read::{Fields, Located};
use crate::topology::validate::list_hint;

/// Threads a blocking tool's pool may have.
const MAX_POOL_THREADS: u32 = 256;

pub(super) const KIND: Kind = Kind {
    key: "builtin",
    read,
    schema: |generator| generator.subschema_for::<RawBuiltinTool>(),
};

/// A built-in tool.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBuiltinTool {
    /// Its name: `add`, `subtract`, `multiply`, `divide`, `power`, `sqrt`, `sleep_ms`,
    /// `burn_ms`.
    #[schemars(required)]
    builtin: Option<Located<String>>,
    #[serde(flatten)]
    options: RawToolOptions,
}

fn read(mut f: Fields<'_, '_, '_>) -> Option<Box<dyn Declared>> {
    let tool = RawBuiltinTool {
        builtin: f.get("builtin"),
        options: RawToolOptions::read(&mut f),
    };
    f.finish();
    Some(Box::new(tool))
}

impl Declared for RawBuiltinTool {
    fn name(&self) -> Option<&Located<String>> {
        self.builtin.as_ref()
    }

    fn options(&self) -> &RawToolOptions {
        &self.options
    }

    fn resolve(&self, p: &mut Problems, _: &Agents<'_>) -> Option<Arc<dyn Start>> {
        let name = self.builtin.as_ref()?;
        let Some(register) = builtin::find(&name.value) else {
            let hint = p
                .did_you_mean(&name.value, builtin::NAMES.iter().copied())
                .or_else(|| list_hint("builtins", builtin::NAMES));
            p.error(
                &name.at,
                format!("unknown builtin tool `{}`", name.value),
                hint,
            );
            return None;
        };
        if name.value == "burn_ms"
            && let Some(n) = &self.options.max_concurrency
            && n.value.0 > MAX_POOL_THREADS
        {
            p.error(
                &n.at,
                format!(
                    "`max_concurrency` of `burn_ms` is its thread count: at most {MAX_POOL_THREADS}"
                ),
                None,
            );
        }
        Some(Arc::new(Builtin(register)))
    }
}

/// A checked built-in tool: how to register it.
#[derive(Debug)]
struct Builtin(Register);

impl Start for Builtin {
    fn runs_in_simulation(&self) -> bool {
        true
    }

    fn register(
        &self,
        builder: SwarmBuilder,
        _: &str,
        options: ToolOptions,
        _: &Arc<OnceLock<WeakSwarm>>,
    ) -> SwarmBuilder {
        (self.0)(builder, options)
    }
}
