//! A server-sent events decoder: bytes in, in any chunking, events out.
//!
//! Both APIs stream with SSE (`event:` and `data:` lines, a blank line ends an event). This is
//! the subset of the WHATWG rules they use: `data` lines joined with `\n`, the `event` name,
//! comments (`:`) and `id`/`retry` ignored, `\n`, `\r\n` or `\r` line ends. An event larger than
//! the cap is an error rather than unbounded memory.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SseEvent {
    /// The `event:` name, if given.
    pub(crate) event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub(crate) data: String,
}

/// The decoder's state between chunks.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// The event being built.
    event: SseEvent,
    /// Whether the event has a data line yet.
    has_data: bool,
    /// A `\r` ended the last chunk: a `\n` starting the next one belongs to it.
    after_cr: bool,
}

/// The largest event accepted.
const MAX_EVENT: usize = 16 * 1024 * 1024;

impl SseDecoder {
    /// Feeds a chunk; complete events are pushed to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), String> {
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => self.end_line(out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(out);
                }
                _ => {
                    self.line.push(byte);
                    if self.line.len() + self.event.data.len() > MAX_EVENT {
                        return Err(format!("a stream event is larger than {MAX_EVENT} bytes"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event are pending (a stream that ends here was cut).
    pub(crate) fn is_mid_event(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        if self.line.is_empty() {
            if self.has_data {
                out.push(std::mem::take(&mut self.event));
            }
            self.event = SseEvent::default();
            self.has_data = false;
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event.event = Some(value.to_owned()),
            _ => {} // comments (empty field), id, retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "event: a\ndata: {\"x\":1}\n\n: keep-alive\n\ndata: line1\r\ndata:line2\r\n\r\nevent: b\rdata: [DONE]\r\r";

    fn decode(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out).unwrap();
        }
        assert!(!decoder.is_mid_event());
        out
    }

    #[test]
    fn events_are_the_same_however_the_bytes_are_split() {
        let whole = decode(&[STREAM.as_bytes()]);
        assert_eq!(
            whole,
            [
                SseEvent {
                    event: Some("a".into()),
                    data: "{\"x\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "line1\nline2".into()
                },
                SseEvent {
                    event: Some("b".into()),
                    data: "[DONE]".into()
                },
            ]
        );
        let bytes = STREAM.as_bytes();
        for split in 0..bytes.len() {
            assert_eq!(
                decode(&[&bytes[..split], &bytes[split..]]),
                whole,
                "split at {split}"
            );
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode(&singles), whole);
    }

    #[test]
    fn a_cut_stream_is_noticed() {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        decoder.feed(b"data: {\"partial", &mut out).unwrap();
        assert!(out.is_empty());
        assert!(decoder.is_mid_event());
    }
}
