//! Uploads received into a file as they arrive, never whole into memory.
//!
//! A client that sends slowly (within the server's pace) holds only an open file, not
//! memory or a permit another agent's upload needs; what an upload is (its type, whether
//! it is text) is learnt on the way through. Files are made in `<data-dir>/incoming`,
//! beside where they are kept, so keeping one is a rename; one that is not kept is
//! removed when dropped.

use std::path::{Path, PathBuf};

use axum::body::Body;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

/// The first bytes of an upload are kept to tell its type by (the signatures `infer`
/// knows sit within the first 64 KiB).
pub const HEAD_BYTES: usize = 64 * 1024;

/// An upload, complete, in a temporary file.
pub struct Received {
    /// Removed when dropped, unless kept with [`Received::keep_as`].
    file: tempfile::TempPath,
    pub size: u64,
    /// Its first [`HEAD_BYTES`] bytes.
    pub head: Vec<u8>,
    /// Whether the whole upload is UTF-8 text without NUL characters.
    pub is_text: bool,
}

impl Received {
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Moves the upload to `target` (in the same data folder), where it stays.
    pub fn keep_as(self, target: &Path) -> std::io::Result<()> {
        self.file.persist(target).map_err(|error| error.error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload arrived too slowly")]
    TooSlow,
    #[error("the upload ended before it was complete: {0}")]
    Broken(String),
    #[error("the upload could not be written: {0}")]
    Storage(#[from] std::io::Error),
}

/// Uploads one agent may have arriving at once: slow ones hold a file and a connection
/// each, so an agent cannot open hundreds.
pub const PER_AGENT: usize = 4;

/// How many uploads each agent has arriving.
#[derive(Debug, Default)]
pub struct UploadSlots {
    taken: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// One agent's upload under way; its slot is given back when it is dropped.
pub struct UploadSlot {
    slots: std::sync::Arc<UploadSlots>,
    agent_id: String,
}

impl UploadSlots {
    /// A slot for the agent's next upload, or None when [`PER_AGENT`] are under way.
    pub fn take(self: &std::sync::Arc<Self>, agent_id: &str) -> Option<UploadSlot> {
        let mut taken = self
            .taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = taken.entry(agent_id.to_owned()).or_default();
        if *count >= PER_AGENT {
            return None;
        }
        *count += 1;
        Some(UploadSlot {
            slots: std::sync::Arc::clone(self),
            agent_id: agent_id.to_owned(),
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut taken = self
            .slots
            .taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = taken.get_mut(&self.agent_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                taken.remove(&self.agent_id);
            }
        }
    }
}

/// Files in the incoming folder untouched this long are what a crash or a kill left half
/// received. Younger ones may be uploads under way on another instance sharing the data
/// folder.
const LEFT_OVER_AFTER: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Removes what a crash or a kill left half received: on a database only this instance
/// serves (`alone`), everything there; otherwise what is old enough.
pub fn clear_incoming(data_dir: &Path, alone: bool) {
    let dir = incoming_dir(data_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let left_over = alone
            || entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age >= LEFT_OVER_AFTER);
        if !left_over {
            continue;
        }
        if let Err(error) = std::fs::remove_file(entry.path()) {
            tracing::warn!(%error, path = %entry.path().display(), "could not remove a left-over upload");
        }
    }
}

/// Where uploads are received.
pub fn incoming_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("incoming")
}

/// Receives `body` into a new file in `dir`, up to `limit` bytes, holding `slot`
/// until it has all arrived.
pub async fn receive(
    body: Body,
    dir: &Path,
    limit: u64,
    slot: Option<UploadSlot>,
) -> Result<Received, ReceiveError> {
    let received = receive_into(body, dir, limit).await;
    drop(slot);
    received
}

async fn receive_into(body: Body, dir: &Path, limit: u64) -> Result<Received, ReceiveError> {
    tokio::fs::create_dir_all(dir).await?;
    let dir = dir.to_owned();
    let (file, path) = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)
            .map(tempfile::NamedTempFile::into_parts)
    })
    .await
    .map_err(|error| std::io::Error::other(error.to_string()))??;
    let mut file = tokio::fs::File::from_std(file);
    let mut size = 0u64;
    let mut head = Vec::new();
    let mut text = TextCheck::default();
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            if crate::http::slow_clients::is_too_slow(&error) {
                ReceiveError::TooSlow
            } else {
                ReceiveError::Broken(error.to_string())
            }
        })?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(ReceiveError::TooLarge { limit });
        }
        if head.len() < HEAD_BYTES {
            let wanted = (HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
        }
        text.feed(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    Ok(Received {
        file: path,
        size,
        head,
        is_text: text.finish(),
    })
}

/// Whether bytes fed piece by piece are UTF-8 text without NUL, a character cut between
/// two pieces included.
#[derive(Debug)]
struct TextCheck {
    valid: bool,
    /// The start of a character the last piece ended in.
    carry: Vec<u8>,
}

impl Default for TextCheck {
    fn default() -> Self {
        Self {
            valid: true,
            carry: Vec::new(),
        }
    }
}

impl TextCheck {
    fn feed(&mut self, mut piece: &[u8]) {
        if !self.valid {
            return;
        }
        // Completes a character cut at the end of the last piece.
        while !self.carry.is_empty() {
            let Some((&byte, rest)) = piece.split_first() else {
                return;
            };
            self.carry.push(byte);
            piece = rest;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(error) if error.error_len().is_some() || self.carry.len() >= 4 => {
                    self.valid = false;
                    return;
                }
                Err(_) => {}
            }
        }
        match std::str::from_utf8(piece) {
            Ok(text) => self.valid = !text.contains('\0'),
            Err(error) if error.error_len().is_none() => {
                let (whole, cut) = piece.split_at(error.valid_up_to());
                self.valid = !whole.contains(&0);
                self.carry = cut.to_vec();
            }
            Err(_) => self.valid = false,
        }
    }

    fn finish(self) -> bool {
        self.valid && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pieces: &[&[u8]]) -> bool {
        let mut text = TextCheck::default();
        for piece in pieces {
            text.feed(piece);
        }
        text.finish()
    }

    #[test]
    fn text_cut_anywhere_is_still_text() {
        let whole = "Grüße, Ада 👩\u{200D}💻\n".as_bytes();
        assert!(check(&[whole]));
        for cut in 0..=whole.len() {
            assert!(check(&[&whole[..cut], &whole[cut..]]), "cut at {cut}");
        }
        let single_bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert!(check(&single_bytes));
    }

    #[test]
    fn bytes_that_are_not_text_are_seen_wherever_they_are() {
        assert!(!check(&[b"abc\0def"]));
        assert!(!check(&[b"abc", b"\0"]));
        assert!(!check(&[&[0xC3]])); // cut short at the end
        assert!(!check(&[b"ok", &[0xFF], b"ok"]));
        assert!(!check(&[&[0xF0, 0x9F], &[0x41]]));
        assert!(check(&[]));
    }

    #[tokio::test]
    async fn an_upload_lands_in_a_file_that_goes_unless_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let body = Body::from(vec![b'a'; 100_000]);
        let received = receive(body, dir.path(), 200_000, None)
            .await
            .expect("received");
        assert_eq!(received.size, 100_000);
        assert_eq!(received.head.len(), HEAD_BYTES);
        assert!(received.is_text);
        let path = received.path().to_owned();
        assert!(path.exists());
        drop(received);
        assert!(!path.exists());

        let body = Body::from(vec![0u8; 10]);
        let received = receive(body, dir.path(), 200_000, None)
            .await
            .expect("received");
        assert!(!received.is_text);
        let kept = dir.path().join("kept");
        received.keep_as(&kept).expect("keep");
        assert_eq!(std::fs::read(&kept).expect("read"), vec![0u8; 10]);
    }

    #[test]
    fn an_agent_has_a_few_uploads_at_once_and_gets_each_slot_back() {
        let slots = std::sync::Arc::new(UploadSlots::default());
        let held: Vec<UploadSlot> = (0..PER_AGENT)
            .map(|_| slots.take("ada").expect("a slot"))
            .collect();
        assert!(slots.take("ada").is_none());
        assert!(
            slots.take("grace").is_some(),
            "another agent is not held up"
        );
        drop(held);
        assert!(slots.take("ada").is_some());
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let body = Body::from(vec![b'a'; 1001]);
        let refused = receive(body, dir.path(), 1000, None).await;
        assert!(matches!(
            refused,
            Err(ReceiveError::TooLarge { limit: 1000 })
        ));
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }
}
