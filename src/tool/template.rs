//! `Template`: a text with `{arg}` and `{env:VAR}` placeholders, the building block of declared
//! tools: an HTTP tool's URL, query, headers and body (`tool::http`), a command tool's argv and
//! stdin (`tool::command`, which refuses `{env:...}`). `{{` and `}}` are literal braces.
//!
//! Parsing happens once, when the tool is built; filling in happens per call (the caller says
//! how each argument's text is encoded).

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text written in the file, braces unescaped.
    Text(String),
    /// `{name}`: the text of argument `name`.
    Arg(String),
    /// `{env:VAR}`: the value of environment variable `VAR` (headers only).
    Env(String),
}

/// A parsed template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Template {
    /// Its pieces; adjacent texts are merged.
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`; the error says what is wrong and at which byte.
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let mut template = Template::default();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, next)| next == '{') => {
                    chars.next();
                    template.push_text("{");
                }
                '}' if chars.peek().is_some_and(|&(_, next)| next == '}') => {
                    chars.next();
                    template.push_text("}");
                }
                '}' => {
                    return Err(format!(
                        "unbalanced `}}` at byte {at} of `{text}` (write `}}}}` for a literal brace)"
                    ));
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let Some(len) = rest
                        .find(['}', '{'])
                        .filter(|&l| rest[l..].starts_with('}'))
                    else {
                        return Err(format!(
                            "unbalanced `{{` at byte {at} of `{text}` (write `{{{{` for a literal brace)"
                        ));
                    };
                    let name = rest[..len].trim();
                    // Skip the name and the closing brace.
                    for _ in 0..=rest[..len].chars().count() {
                        chars.next();
                    }
                    let piece = match name.strip_prefix("env:") {
                        Some(var) if !var.trim().is_empty() => Piece::Env(var.trim().to_owned()),
                        Some(_) => {
                            return Err(format!(
                                "`{{env:}}` at byte {at} of `{text}` names no variable"
                            ));
                        }
                        None if name.is_empty() => {
                            return Err(format!(
                                "empty placeholder `{{}}` at byte {at} of `{text}` (write `{{{{}}}}` for literal braces)"
                            ));
                        }
                        None => Piece::Arg(name.to_owned()),
                    };
                    template.pieces.push(piece);
                }
                other => {
                    let mut buf = [0_u8; 4];
                    template.push_text(other.encode_utf8(&mut buf));
                }
            }
        }
        Ok(template)
    }

    /// A template that is only literal `text` (braces and all).
    pub(crate) fn text(text: &str) -> Template {
        let mut template = Template::default();
        template.push_text(text);
        template
    }

    /// Appends literal text, merged with a text before it.
    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Text(text.to_owned()));
        }
    }

    /// Its pieces, in order.
    pub(crate) fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The argument when the template is exactly `{name}`.
    pub(crate) fn sole_arg(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Arg(name)] => Some(name),
            _ => None,
        }
    }

    /// Whether it has any placeholder.
    pub(crate) fn has_placeholders(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Text(_)))
    }

    /// The template cut at every `sep` in its literal text (never inside an argument's value,
    /// which is filled in later).
    pub(crate) fn split(&self, sep: char) -> Vec<Template> {
        let mut parts = vec![Template::default()];
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => {
                    let mut first = true;
                    for chunk in text.split(sep) {
                        if !first {
                            parts.push(Template::default());
                        }
                        first = false;
                        if let Some(last) = parts.last_mut()
                            && !chunk.is_empty()
                        {
                            last.push_text(chunk);
                        }
                    }
                }
                other => {
                    if let Some(last) = parts.last_mut() {
                        last.pieces.push(other.clone());
                    }
                }
            }
        }
        parts
    }

    /// The template cut at its first literal `sep`: the part before and, if there was one,
    /// the part after.
    pub(crate) fn split_once(&self, sep: char) -> (Template, Option<Template>) {
        let mut parts = self.split(sep).into_iter();
        let head = parts.next().unwrap_or_default();
        let rest: Vec<Template> = parts.collect();
        if rest.is_empty() {
            return (head, None);
        }
        let mut tail = Template::default();
        for (index, part) in rest.into_iter().enumerate() {
            if index > 0 {
                tail.push_text(&sep.to_string());
            }
            for piece in part.pieces {
                match piece {
                    Piece::Text(text) => tail.push_text(&text),
                    other => tail.pieces.push(other),
                }
            }
        }
        (head, Some(tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Piece {
        Piece::Text(t.to_owned())
    }

    fn arg(t: &str) -> Piece {
        Piece::Arg(t.to_owned())
    }

    #[test]
    fn placeholders_env_names_and_escaped_braces_parse() {
        let t = Template::parse("a{x}b{{c}}{env:TOKEN}{ y }").unwrap();
        assert_eq!(
            t.pieces(),
            &[
                text("a"),
                arg("x"),
                text("b{c}"),
                Piece::Env("TOKEN".into()),
                arg("y")
            ]
        );
        assert_eq!(Template::parse("{user}").unwrap().sole_arg(), Some("user"));
        assert_eq!(Template::parse("x{user}").unwrap().sole_arg(), None);
        assert_eq!(Template::parse("é{n}ü").unwrap().pieces()[2], text("ü"));
    }

    #[test]
    fn unbalanced_and_empty_braces_are_refused_with_their_place() {
        for (bad, says) in [
            ("a{b", "unbalanced `{` at byte 1"),
            ("a}b", "unbalanced `}` at byte 1"),
            ("{a{b}", "unbalanced `{` at byte 0"),
            ("x{}", "empty placeholder `{}` at byte 1"),
            ("{env:}", "names no variable"),
        ] {
            let error = Template::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn splitting_cuts_only_literal_text() {
        let t = Template::parse("/users/{u}/repos").unwrap();
        let parts = t.split('/');
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], Template::default());
        assert_eq!(parts[2].sole_arg(), Some("u"));
        let (path, query) = Template::parse("/a?x={x}&y=1?z").unwrap().split_once('?');
        assert_eq!(path.pieces(), &[text("/a")]);
        assert_eq!(
            query.unwrap().pieces(),
            &[text("x="), arg("x"), text("&y=1?z")]
        );
        assert_eq!(Template::parse("/a").unwrap().split_once('?').1, None);
    }
}
