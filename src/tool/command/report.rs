//! The text a command call returns to the model: how it ended, its stdout, and its stderr
//! when there is any, each cut at its cap with a note.
//!
//! ```text
//! exit code: 0
//! --- stdout ---
//! ...
//! [stdout cut at 1048576 bytes of 52428800]
//! --- stderr ---
//! ...
//! ```

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;

use super::capture::Captured;

/// The output text of a call that ended with `status`.
pub(super) fn render(
    status: ExitStatus,
    stdout: &Captured,
    stdout_cap: usize,
    stderr: &Captured,
    stderr_cap: usize,
) -> String {
    let mut text = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code: {code}\n"),
        (None, Some(signal)) => format!("killed by signal {signal}\n"),
        (None, None) => format!("ended: {status}\n"),
    };
    section(&mut text, "stdout", stdout, stdout_cap);
    if stderr.total > 0 {
        section(&mut text, "stderr", stderr, stderr_cap);
    }
    text
}

/// Appends `--- name ---`, the kept bytes (as UTF-8, invalid bytes replaced) ending in a
/// newline, and the note if they were cut.
fn section(text: &mut String, name: &str, captured: &Captured, cap: usize) {
    text.push_str("--- ");
    text.push_str(name);
    text.push_str(" ---\n");
    let kept = if captured.is_cut() {
        // Do not end on half a character.
        complete_utf8_prefix(&captured.kept)
    } else {
        &captured.kept
    };
    text.push_str(&String::from_utf8_lossy(kept));
    if !kept.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if captured.is_cut() {
        text.push_str(&format!(
            "[{name} cut at {cap} bytes of {}]\n",
            captured.total
        ));
    }
}

/// `bytes` without a trailing, incomplete UTF-8 sequence.
fn complete_utf8_prefix(bytes: &[u8]) -> &[u8] {
    // A sequence is at most 4 bytes: look for its lead byte among the last 3.
    for back in 1..=bytes.len().min(3) {
        let at = bytes.len() - back;
        let byte = bytes.get(at).copied().unwrap_or(0);
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: the lead is further back
        }
        let needs = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needs > back {
            bytes.get(..at).unwrap_or(bytes)
        } else {
            bytes
        };
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(kept: &[u8], total: u64) -> Captured {
        Captured {
            kept: kept.to_vec(),
            total,
        }
    }

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn a_clean_exit_shows_its_code_and_stdout_only() {
        let text = render(exit(0), &captured(b"hi\n", 3), 10, &Captured::default(), 10);
        assert_eq!(text, "exit code: 0\n--- stdout ---\nhi\n");
    }

    #[test]
    fn stderr_shows_when_there_is_some_and_a_newline_ends_each_section() {
        let text = render(exit(3), &Captured::default(), 10, &captured(b"oops", 4), 10);
        assert_eq!(text, "exit code: 3\n--- stdout ---\n--- stderr ---\noops\n");
    }

    #[test]
    fn a_signal_is_named_and_a_cut_is_noted() {
        let text = render(
            ExitStatus::from_raw(9),
            &captured(b"abcd", 100),
            4,
            &Captured::default(),
            10,
        );
        assert_eq!(
            text,
            "killed by signal 9\n--- stdout ---\nabcd\n[stdout cut at 4 bytes of 100]\n"
        );
    }

    #[test]
    fn a_cut_never_ends_on_half_a_character() {
        let euro = "€".as_bytes(); // 3 bytes
        assert_eq!(complete_utf8_prefix(&[b'a', euro[0], euro[1]]), b"a");
        assert_eq!(complete_utf8_prefix(&[b'a', euro[0]]), b"a");
        assert_eq!(
            complete_utf8_prefix(&[b'a', euro[0], euro[1], euro[2]]),
            "a€".as_bytes()
        );
        assert_eq!(complete_utf8_prefix(b"abc"), b"abc");
        assert_eq!(complete_utf8_prefix(b""), b"");
    }
}
