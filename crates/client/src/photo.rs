//! The app's side of the profile photo: check a picked file and make its preview, keep
//! it while the agent crops, then make the 512 px image and upload it. Also fetches
//! stored photos for display, since the server wants the bearer token.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use agent_desk_avatar::{AvatarError, Limits};
use agent_desk_core::account::Policy;
use agent_desk_core::{AvatarCrop, AvatarPolicy, AvatarSource, ErrorCode, AVATAR_SIZES};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::{AgentSession, ClientError};

/// Longest side of the copy the agent crops on: sharp on a 2× display at the editor's size.
const PREVIEW_SIDE: u32 = 1024;
/// Photos kept for display; their URLs never change content, so they never go stale.
const CACHED_PHOTOS: usize = 16;

struct Picked {
    source_id: String,
    bytes: Arc<Vec<u8>>,
    limits: Limits,
}

#[derive(Default)]
pub struct PhotoEditor {
    picked: Mutex<Option<Picked>>,
    next_id: AtomicU64,
    cache: Mutex<VecDeque<(String, Arc<str>)>>,
}

impl From<AvatarError> for ClientError {
    fn from(error: AvatarError) -> Self {
        ClientError::Photo {
            code: error.code(),
            message: crate::error::sentence(&error.to_string()),
        }
    }
}

/// The server's limits, as the pipeline takes them.
pub fn limits(policy: &AvatarPolicy) -> Limits {
    Limits {
        max_bytes: policy.max_bytes,
        max_side: policy.max_side,
        max_pixels: policy.max_pixels,
        ..Limits::default()
    }
}

async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ClientError::Photo {
            code: ErrorCode::Internal,
            message: format!("the photo could not be processed: {e}"),
        })
}

/// A JPEG as a `data:` URL, the only image origin the window's CSP allows.
pub fn data_url(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", STANDARD.encode(jpeg))
}

impl PhotoEditor {
    /// Checks a picked file against the server's limits (the same checks the server
    /// makes) and answers its preview. The file is kept until saved or replaced.
    pub async fn prepare(
        &self,
        policy: &Policy,
        bytes: Vec<u8>,
    ) -> Result<AvatarSource, ClientError> {
        let limits = limits(&policy.avatar);
        let bytes = Arc::new(bytes);
        let decoding = Arc::clone(&bytes);
        let preview =
            off_thread(move || agent_desk_avatar::preview(&decoding, &limits, PREVIEW_SIDE))
                .await??;
        let source_id = format!("photo-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let source = AvatarSource {
            source_id: source_id.clone(),
            format: preview.info.format.mime().to_owned(),
            width: preview.info.width,
            height: preview.info.height,
            preview: data_url(&preview.jpeg),
        };
        if let Ok(mut picked) = self.picked.lock() {
            *picked = Some(Picked {
                source_id,
                bytes,
                limits,
            });
        }
        Ok(source)
    }

    /// Crops the picked file and makes the largest stored size from it, the JPEG to
    /// upload.
    pub async fn render(&self, source_id: &str, crop: AvatarCrop) -> Result<Vec<u8>, ClientError> {
        let (bytes, limits) = self
            .picked
            .lock()
            .ok()
            .and_then(|picked| {
                picked
                    .as_ref()
                    .filter(|p| p.source_id == source_id)
                    .map(|p| (Arc::clone(&p.bytes), p.limits))
            })
            .ok_or_else(|| ClientError::Photo {
                code: ErrorCode::InvalidImage,
                message: "That photo is no longer open; choose it again.".into(),
            })?;
        let mut encoded = off_thread(move || {
            agent_desk_avatar::render(&bytes, &limits, Some(crop), &AVATAR_SIZES[..1])
        })
        .await??;
        Ok(encoded.remove(0))
    }

    /// Forgets the picked file once its photo is saved.
    pub fn saved(&self, source_id: &str) {
        if let Ok(mut picked) = self.picked.lock() {
            picked.take_if(|p| p.source_id == source_id);
        }
    }

    /// Forgets a picked file the agent did not save.
    pub fn discard(&self) {
        if let Ok(mut picked) = self.picked.lock() {
            picked.take();
        }
    }

    /// A stored photo as a `data:` URL, from the cache when it was fetched before.
    pub async fn image(
        &self,
        session: &AgentSession,
        avatar_url: &str,
    ) -> Result<Arc<str>, ClientError> {
        let cached = self.cache.lock().ok().and_then(|cache| {
            cache
                .iter()
                .find(|(url, _)| url == avatar_url)
                .map(|(_, image)| Arc::clone(image))
        });
        if let Some(image) = cached {
            return Ok(image);
        }
        let jpeg = session.avatar(avatar_url, AVATAR_SIZES[0]).await?;
        let image: Arc<str> = data_url(&jpeg).into();
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED_PHOTOS {
                cache.pop_front();
            }
            cache.push_back((avatar_url.to_owned(), Arc::clone(&image)));
        }
        Ok(image)
    }
}
