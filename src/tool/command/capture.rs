//! Reading a command's stdout or stderr to its end, keeping at most a cap of bytes and
//! counting the rest, so the child never blocks on a full pipe and memory stays bounded.

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// How much is read from a pipe at a time (the scratch buffer, reused for every read).
const CHUNK: usize = 16 * 1024;

/// What was read from one pipe.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Captured {
    /// The first bytes, up to the cap.
    pub(super) kept: Vec<u8>,
    /// Every byte the command wrote, kept or not.
    pub(super) total: u64,
}

impl Captured {
    /// Whether bytes past the cap were dropped.
    pub(super) fn is_cut(&self) -> bool {
        self.total > self.kept.len() as u64
    }
}

/// Reads `pipe` to its end, keeping its first `cap` bytes.
pub(super) async fn read_capped(
    pipe: Option<impl AsyncRead + Unpin>,
    cap: usize,
) -> std::io::Result<Captured> {
    let mut captured = Captured::default();
    let Some(mut pipe) = pipe else {
        return Ok(captured);
    };
    let mut scratch = vec![0_u8; CHUNK];
    loop {
        let n = match pipe.read(&mut scratch).await {
            Ok(0) => return Ok(captured),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        captured.total += n as u64;
        let room = cap.saturating_sub(captured.kept.len());
        if let Some(part) = scratch.get(..n.min(room)) {
            captured.kept.extend_from_slice(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_cap_bytes_are_counted_not_kept() {
        let data = vec![b'x'; 3 * CHUNK + 5];
        let captured = read_capped(Some(data.as_slice()), 100)
            .await
            .expect("reads");
        assert_eq!(captured.kept.len(), 100);
        assert_eq!(captured.total, data.len() as u64);
        assert!(captured.is_cut());
    }

    #[tokio::test]
    async fn under_the_cap_everything_is_kept() {
        let captured = read_capped(Some(&b"hello"[..]), 100).await.expect("reads");
        assert_eq!(captured.kept, b"hello");
        assert!(!captured.is_cut());
        let none = read_capped(None::<&[u8]>, 100).await.expect("reads");
        assert_eq!(none, Captured::default());
    }
}
