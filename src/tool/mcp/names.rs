//! The names the model sees for a server's tools.
//!
//! MCP allows tool names the OpenAI API refuses (dots, slashes, spaces, more than 64
//! characters). Each tool is exposed as `prefix + name` with every character outside
//! `[a-zA-Z0-9_-]` replaced by `_`, cut to 64 characters; where two tools would end up with
//! the same name, the later one gets `_2`, `_3`, ... Calls still reach the server under the
//! server's own name.

use std::collections::HashSet;

/// The longest function name the OpenAI API accepts.
const MAX_NAME: usize = 64;

/// The exposed name of each of `names`, in order (see the module docs). A name the API
/// accepts as it is keeps it, even when a mapped name listed before it would have taken it.
pub(crate) fn exposed_names<'a>(
    prefix: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let wanted: Vec<String> = names.into_iter().map(|n| format!("{prefix}{n}")).collect();
    let valid = |name: &str| name.len() <= MAX_NAME && !name.is_empty() && sanitize(name) == name;
    let mut taken: HashSet<String> = HashSet::new();
    let mut kept: Vec<bool> = Vec::with_capacity(wanted.len());
    for name in &wanted {
        kept.push(valid(name) && taken.insert(name.clone()));
    }
    wanted
        .iter()
        .zip(kept)
        .map(|(name, kept)| {
            if kept {
                return name.clone();
            }
            let base = cut(&sanitize(name), MAX_NAME);
            let mut exposed = base.clone();
            let mut n = 2;
            while !taken.insert(exposed.clone()) {
                let suffix = format!("_{n}");
                exposed = format!("{}{suffix}", cut(&base, MAX_NAME - suffix.len()));
                n += 1;
            }
            exposed
        })
        .collect()
}

/// `name` with each character the API refuses replaced by `_` (an empty name is `tool`).
fn sanitize(name: &str) -> String {
    if name.is_empty() {
        return "tool".to_owned();
    }
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The first `max` characters of an ASCII `name`.
fn cut(name: &str, max: usize) -> String {
    name.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_api_accepts_pass_unchanged_with_the_prefix() {
        assert_eq!(
            exposed_names("fs_", ["read_file", "get-sum"]),
            ["fs_read_file", "fs_get-sum"]
        );
    }

    #[test]
    fn refused_characters_become_underscores_and_clashes_get_a_number() {
        assert_eq!(
            exposed_names("", ["files.read", "files/read", "files_read", "héllo", ""]),
            [
                "files_read_2",
                "files_read_3",
                "files_read",
                "h_llo",
                "tool"
            ]
        );
    }

    #[test]
    fn long_names_are_cut_to_64_characters_and_stay_distinct() {
        let long = "a".repeat(80);
        let names = exposed_names("p_", [long.as_str(), long.as_str()]);
        assert_eq!(names[0].len(), 64);
        assert_eq!(names[1].len(), 64);
        assert!(names[1].ends_with("_2"));
        assert_ne!(names[0], names[1]);
    }
}
