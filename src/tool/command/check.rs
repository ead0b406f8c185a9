//! [`CommandTool::new`]: checks a [`CommandToolSpec`], every problem reported at once, and
//! resolves what can be resolved before any call (the program's path, the environment).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::template::Template;
use super::{CommandField, CommandSpecError, CommandTool, CommandToolSpec};

impl CommandTool {
    /// Checks `spec` and builds the tool, or returns every problem found.
    ///
    /// `env` reads Baton's environment (`|name| std::env::var(name).ok()`, or a stand-in in
    /// tests). It resolves `argv[0]` against `PATH` when the program has no `/` (a relative
    /// path with a `/` is taken from `working_dir`, else from the current directory), and it
    /// gives the values of the variables `spec.env` allows, read once, here: a variable that is
    /// unset is simply not passed.
    ///
    /// # Errors
    ///
    /// Every problem, each naming its [`CommandField`]: an empty argv; a placeholder in
    /// `argv[0]`; a program not found on `PATH` or not executable; a template naming an
    /// argument that `parameters.properties` does not declare (the hint lists the known
    /// names); unbalanced braces; a `working_dir` that is missing or not a directory; a
    /// variable name that is not a valid name; `parameters` that is not an object schema.
    ///
    /// # Examples
    ///
    /// ```
    /// use baton::tool::command::{CommandTool, CommandToolSpec};
    /// use serde_json::json;
    ///
    /// let spec = CommandToolSpec {
    ///     name: "count_lines".into(),
    ///     description: "Counts the lines of a text.".into(),
    ///     parameters: json!({"type": "object", "properties": {"text": {"type": "string"}}}),
    ///     argv: vec!["wc".into(), "-l".into()],
    ///     stdin: Some("{text}".into()),
    ///     ..CommandToolSpec::default()
    /// };
    /// # if std::env::var_os("PATH").is_some() {
    /// let tool = CommandTool::new(spec, &|name| std::env::var(name).ok());
    /// # let _ = tool;
    /// # }
    /// ```
    pub fn new(
        spec: CommandToolSpec,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CommandTool, Vec<CommandSpecError>> {
        let mut problems = Vec::new();
        let known = known_arguments(&spec.parameters, &mut problems);
        let working_dir = check_working_dir(spec.working_dir.as_deref(), &mut problems);

        let program = match spec.argv.first() {
            None => {
                problems.push(
                    CommandSpecError::new(CommandField::Argv(0), "argv is empty")
                        .with_hint("give at least the program to run, as in `[\"ls\", \"-l\"]`"),
                );
                None
            }
            Some(first) if first.contains(['{', '}']) => {
                problems.push(
                    CommandSpecError::new(
                        CommandField::Argv(0),
                        format!("argv[0] `{first}` holds a brace: the program is fixed by the file, never filled from arguments"),
                    )
                    .with_hint("put placeholders in the later elements"),
                );
                None
            }
            Some(first) => match find_program(first, working_dir.as_deref(), env) {
                Ok(path) => Some(path),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            },
        };

        let mut argv = Vec::new();
        for (i, source) in spec.argv.iter().enumerate().skip(1) {
            if let Some(template) =
                check_template(source, CommandField::Argv(i), &known, &mut problems)
            {
                argv.push(template);
            }
        }
        let stdin = spec
            .stdin
            .as_deref()
            .and_then(|source| check_template(source, CommandField::Stdin, &known, &mut problems));
        let vars = environment(&spec, env, &mut problems);

        match program {
            Some(program) if problems.is_empty() => Ok(CommandTool {
                arg0: spec.argv.first().cloned().unwrap_or_default(),
                name: spec.name,
                description: spec.description,
                parameters: spec.parameters,
                program,
                argv,
                working_dir: spec.working_dir,
                env: vars,
                stdin,
                max_stdout_bytes: spec.max_stdout_bytes,
                max_stderr_bytes: spec.max_stderr_bytes,
            }),
            _ => Err(problems),
        }
    }
}

/// The names `parameters.properties` declares (empty when there are none); a problem if
/// `parameters` is not an object schema.
fn known_arguments(parameters: &Value, problems: &mut Vec<CommandSpecError>) -> BTreeSet<String> {
    let wrong = |message: String| {
        CommandSpecError::new(CommandField::Parameters, message).with_hint(
            r#"write an object schema, as in `{"type": "object", "properties": {"file": {"type": "string"}}}`"#,
        )
    };
    let Value::Object(schema) = parameters else {
        problems.push(wrong(format!(
            "parameters must be a JSON Schema object, not {}",
            crate::tool::args::json_kind(parameters)
        )));
        return BTreeSet::new();
    };
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "object" => {}
        Some(other) => {
            problems.push(wrong(format!(
                "parameters must be an object schema (`\"type\": \"object\"`), not `\"type\": {other}`"
            )));
        }
        None => problems.push(wrong(
            "parameters must be an object schema: `\"type\": \"object\"` is missing".to_owned(),
        )),
    }
    match schema.get("properties") {
        None => BTreeSet::new(),
        Some(Value::Object(properties)) => properties.keys().cloned().collect(),
        Some(other) => {
            problems.push(wrong(format!(
                "parameters.properties must be an object, not {}",
                crate::tool::args::json_kind(other)
            )));
            BTreeSet::new()
        }
    }
}

/// The working directory, if it is one; a problem if it is missing or not a directory.
fn check_working_dir(dir: Option<&Path>, problems: &mut Vec<CommandSpecError>) -> Option<PathBuf> {
    let dir = dir?;
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Some(dir.to_path_buf()),
        Ok(_) => {
            problems.push(CommandSpecError::new(
                CommandField::WorkingDir,
                format!("working_dir `{}` is not a directory", dir.display()),
            ));
            None
        }
        Err(e) => {
            problems.push(CommandSpecError::new(
                CommandField::WorkingDir,
                format!("working_dir `{}` cannot be used: {e}", dir.display()),
            ));
            None
        }
    }
}

/// Parses a template and checks that it names only declared arguments.
fn check_template(
    source: &str,
    field: CommandField,
    known: &BTreeSet<String>,
    problems: &mut Vec<CommandSpecError>,
) -> Option<Template> {
    let template = match Template::parse(source) {
        Ok(template) => template,
        Err(message) => {
            problems.push(CommandSpecError::new(field, message));
            return None;
        }
    };
    let mut ok = true;
    let mut reported = BTreeSet::new();
    for name in template.names() {
        if known.contains(name) || !reported.insert(name) {
            continue;
        }
        ok = false;
        let hint = if known.is_empty() {
            "parameters declares no arguments; add it to parameters.properties".to_owned()
        } else {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            let mut hint = format!("known arguments: {}", names.join(", "));
            if let Some(close) = names
                .iter()
                .find(|known| strsim::levenshtein(known, name) <= 2)
            {
                hint = format!("did you mean `{close}`? {hint}");
            }
            hint
        };
        problems.push(
            CommandSpecError::new(
                field.clone(),
                format!("`{{{name}}}` in `{source}` names an argument that parameters.properties does not declare"),
            )
            .with_hint(hint),
        );
    }
    ok.then_some(template)
}

/// The variables the child gets: each allowed one that is set (read through `env`), then the
/// fixed ones (which win over an allowed one of the same name). Problems for invalid names.
fn environment(
    spec: &CommandToolSpec,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<CommandSpecError>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for name in &spec.env {
        if !is_variable_name(name) {
            problems.push(
                CommandSpecError::new(
                    CommandField::Env(name.clone()),
                    format!("`{name}` is not a valid environment variable name"),
                )
                .with_hint("use letters, digits and `_`, not starting with a digit"),
            );
            continue;
        }
        let fixed = spec.set_env.iter().any(|(fixed, _)| fixed == name);
        if let Some(value) = env(name).filter(|_| !fixed) {
            vars.push((name.clone(), value));
        }
    }
    for (name, value) in &spec.set_env {
        if !is_variable_name(name) {
            problems.push(
                CommandSpecError::new(
                    CommandField::SetEnv(name.clone()),
                    format!("`{name}` is not a valid environment variable name"),
                )
                .with_hint("use letters, digits and `_`, not starting with a digit"),
            );
        } else if value.contains('\0') {
            problems.push(CommandSpecError::new(
                CommandField::SetEnv(name.clone()),
                format!("the value of `{name}` holds a NUL byte, which no environment can carry"),
            ));
        } else {
            vars.push((name.clone(), value.clone()));
        }
    }
    vars
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`.
fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The absolute path of `program`: searched on `PATH` (read through `env`) when it has no
/// `/`, else taken as a path (a relative one from `working_dir`, else the current directory).
fn find_program(
    program: &str,
    working_dir: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, CommandSpecError> {
    let problem = |message: String| CommandSpecError::new(CommandField::Argv(0), message);
    let current = std::env::current_dir()
        .map_err(|e| problem(format!("cannot read the current directory: {e}")))?;
    if program.is_empty() {
        return Err(problem(
            "argv[0] is empty: name the program to run".to_owned(),
        ));
    }
    if program.contains('/') {
        let base = working_dir.map_or_else(|| current.clone(), |dir| current.join(dir));
        let path = base.join(program);
        return match executable(&path) {
            Ok(()) => Ok(path),
            Err(why) => Err(problem(format!("program `{program}` {why}"))),
        };
    }
    let Some(search) = env("PATH") else {
        return Err(problem(format!(
            "program `{program}` cannot be looked up: PATH is not set"
        ))
        .with_hint("give its full path, as in `/usr/bin/{program}`"));
    };
    let mut not_executable = None;
    for dir in search.split(':').filter(|dir| !dir.is_empty()) {
        let path = current.join(dir).join(program);
        match executable(&path) {
            Ok(()) => return Ok(path),
            Err(why @ "is not executable") => {
                not_executable.get_or_insert((path, why));
            }
            Err(_) => {}
        }
    }
    Err(match not_executable {
        Some((path, why)) => problem(format!(
            "program `{program}` was found at `{}` but {why}",
            path.display()
        )),
        // The hint does not print PATH: every value read through `env` stays out of messages.
        None => problem(format!("program `{program}` was not found on PATH"))
            .with_hint("give the program's full path, or install it".to_owned()),
    })
}

/// Whether `path` is an executable file; else why not.
fn executable(path: &Path) -> Result<(), &'static str> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist"),
        Err(_) => Err("cannot be read"),
        Ok(meta) if !meta.is_file() => Err("is not a file"),
        Ok(meta) if meta.permissions().mode() & 0o111 == 0 => Err("is not executable"),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_letters_digits_and_underscores() {
        for good in ["PATH", "_x", "A1_B"] {
            assert!(is_variable_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A=B", "A B", "É"] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }
}
