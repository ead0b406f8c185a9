//! `TextGate`: a streamed request that is retried part-way shows its text once.
//!
//! [`Retry`](super::Retry) runs every attempt of one request through the same gate. The first
//! attempt's text deltas go out as they come and are remembered. A later attempt usually
//! writes the same text again (the same request, a deterministic or low-temperature model):
//! while its deltas repeat what was already released they are held back, and once they go
//! past it only the new part goes out, so a listener sees the answer exactly once. If a later
//! attempt writes something else, the gate says so once ([`Admit::Restart`]) and lets the new
//! text through: the listener then knows the text before that point is void.

/// What to do with one text delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send this part of it (possibly all of it).
    Send(String),
    /// Send nothing: it repeats text already sent.
    Hold,
    /// The attempt diverged from the text already sent: report a restart, then send this.
    Restart(String),
}

/// The text one request has released, across its attempts.
#[derive(Debug, Default)]
pub(crate) struct TextGate {
    /// Everything released so far (until an attempt diverges).
    released: String,
    /// How much of `released` the current attempt has repeated.
    replayed: usize,
    /// The current attempt, 1-based.
    attempt: u32,
    /// The current attempt diverged: everything it writes goes out.
    diverged: bool,
}

impl TextGate {
    /// Starts the next attempt of the request.
    pub(crate) fn begin_attempt(&mut self) {
        self.attempt += 1;
        self.replayed = 0;
        // After a divergence, what the listener has is that attempt's text.
        self.diverged = false;
    }

    /// The current attempt, 1-based.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Decides what of `delta`, from the current attempt, goes out.
    pub(crate) fn admit(&mut self, delta: &str) -> Admit {
        if self.attempt <= 1 || self.diverged {
            self.released.push_str(delta);
            return Admit::Send(delta.to_owned());
        }
        let rest = &self.released[self.replayed..];
        if rest.starts_with(delta) {
            self.replayed += delta.len();
            return Admit::Hold;
        }
        if let Some(new) = delta.strip_prefix(rest) {
            let new = new.to_owned();
            self.released.push_str(&new);
            self.replayed = self.released.len();
            return Admit::Send(new);
        }
        // A different answer: it replaces what was sent (from this attempt's first byte, held
        // part included), and is what later attempts compare with.
        let mut text = self.released[..self.replayed].to_owned();
        text.push_str(delta);
        self.diverged = true;
        self.released.clone_from(&text);
        self.replayed = 0;
        Admit::Restart(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_that_writes_the_same_text_releases_only_what_is_new() {
        let mut gate = TextGate::default();
        gate.begin_attempt();
        assert_eq!(gate.admit("Hello, "), Admit::Send("Hello, ".into()));
        assert_eq!(gate.admit("wor"), Admit::Send("wor".into()));
        // The connection broke; the second attempt starts again from the top.
        gate.begin_attempt();
        assert_eq!(gate.admit("Hel"), Admit::Hold);
        assert_eq!(gate.admit("lo, w"), Admit::Hold);
        assert_eq!(gate.admit("orld"), Admit::Send("ld".into()));
        assert_eq!(gate.admit("!"), Admit::Send("!".into()));
        assert_eq!(gate.attempt(), 2);
    }

    #[test]
    fn a_retry_that_writes_other_text_is_a_restart() {
        let mut gate = TextGate::default();
        gate.begin_attempt();
        gate.admit("The answer is 4");
        gate.begin_attempt();
        assert_eq!(gate.admit("The "), Admit::Hold);
        assert_eq!(gate.admit("result"), Admit::Restart("The result".into()));
        assert_eq!(gate.admit(" is 4"), Admit::Send(" is 4".into()));
        // A third attempt compares with the restarted text.
        gate.begin_attempt();
        assert_eq!(gate.admit("The result is"), Admit::Hold);
    }

    #[test]
    fn multibyte_text_is_compared_on_character_boundaries() {
        let mut gate = TextGate::default();
        gate.begin_attempt();
        gate.admit("ça ");
        gate.begin_attempt();
        assert_eq!(gate.admit("ç"), Admit::Hold);
        assert_eq!(gate.admit("a va"), Admit::Send("va".into()));
    }
}
