//! Passwords (argon2id) and bearer tokens (256 random bits, stored only as SHA-256).

use std::cell::RefCell;
use std::sync::LazyLock;

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::workers::{WorkError, WorkerPool};

/// Hashes with argon2id and the library's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A hash's memory beyond this is not one this server made: it is not computed.
const MEMORY_MAX_BLOCKS: usize = 256 * 1024;

/// [`hash_password`] with `memory` as the hash's working memory, grown to fit once.
fn hash_with(
    password: &str,
    memory: &mut Vec<Block>,
) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let params = argon.params().clone();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let blocks = working_memory(memory, params.block_count());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = computed(&argon, password, salt_raw, output_len, blocks)?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Whether `password` matches `hash`, with `memory` as the hash's working memory; a
/// malformed hash never matches.
fn verify_with(password: &str, hash: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    if params.block_count() > MEMORY_MAX_BLOCKS {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = working_memory(memory, params.block_count());
    let argon = Argon2::new(algorithm, version, params);
    computed(&argon, password, salt_raw, expected.len(), blocks)
        // Output's equality takes the same time whatever the bytes.
        .is_ok_and(|computed| computed == expected)
}

/// The hash of `password` with `salt`, `length` bytes, in `blocks` of working memory.
fn computed(
    argon: &Argon2<'_>,
    password: &str,
    salt: &[u8],
    length: usize,
    blocks: &mut [Block],
) -> Result<Output, argon2::password_hash::Error> {
    Output::init_with(length, |out| {
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut *blocks)?)
    })
}

fn working_memory(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

/// Hashes waiting at most: each takes about 40 ms, so the last would wait a few seconds
/// on two cores, well within a client's patience.
const QUEUE_MAX: usize = 128;

/// Passwords are hashed on a few threads of their own, one hash each at a time, each
/// with its 19 MiB of working memory allocated once: a flood of sign-ins queues rather
/// than exhausting memory, and memory does not grow with each thread hashing happens on.
static HASHERS: LazyLock<WorkerPool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    WorkerPool::new("password-hashing", threads, QUEUE_MAX)
});

thread_local! {
    /// A hashing thread's working memory, kept from one hash to the next.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Why a queued hash was not computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashingError {
    /// So many hashes wait already that this one would not be reached in good time.
    #[error("too many passwords are being checked; try again in a moment")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<WorkError> for HashingError {
    fn from(error: WorkError) -> Self {
        match error {
            WorkError::Busy => Self::Busy,
            stopped => Self::Failed(stopped.to_string()),
        }
    }
}

/// [`hash_password`] on the hashing threads, queued behind other hashing.
pub async fn hash_password_queued(password: &str) -> Result<String, HashingError> {
    let password = password.to_owned();
    HASHERS
        .run(move || MEMORY.with_borrow_mut(|memory| hash_with(&password, memory)))
        .await?
        .map_err(|error| HashingError::Failed(error.to_string()))
}

/// Whether `password` matches `hash` (a malformed hash never does), on the hashing threads, queued behind other hashing.
pub async fn verify_password_queued(password: &str, hash: &str) -> Result<bool, HashingError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    Ok(HASHERS
        .run(move || MEMORY.with_borrow_mut(|memory| verify_with(&password, &hash, memory)))
        .await?)
}

/// A fresh bearer token: 32 bytes from the OS, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    /// The library's own check, which the kept-memory one must agree with.
    fn verify_password(password: &str, hash: &str) -> bool {
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let hash = hash_password("Correct-horse-1").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-1", &hash));
        assert!(!verify_password("correct-horse-1", &hash));
        assert!(!verify_password("Correct-horse-1", "not a hash"));
    }

    #[test]
    fn hashes_made_with_kept_memory_are_the_librarys() {
        let mut memory = Vec::new();
        let ours = hash_with("Correct-horse-1", &mut memory).expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(verify_password("Correct-horse-1", &ours));
        let theirs = hash_password("Correct-horse-1").expect("hash");
        // The memory is reused as the previous hash left it.
        assert!(verify_with("Correct-horse-1", &theirs, &mut memory));
        assert!(verify_with("Correct-horse-1", &ours, &mut memory));
        assert!(!verify_with("correct-horse-1", &theirs, &mut memory));
        assert!(!verify_with("Correct-horse-1", "not a hash", &mut memory));
        assert_eq!(memory.len(), Params::DEFAULT.block_count());
    }

    #[test]
    fn a_hash_asking_for_more_memory_than_ours_ever_do_is_not_computed() {
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$\
                    ZAwSfL2gQnkKoHBqEyEhIDXcrZfXIZCX8IQ4yj0XpqI";
        let parsed = PasswordHash::new(huge).expect("a well-formed hash");
        let params = Params::try_from(&parsed).expect("valid parameters");
        assert!(params.block_count() > MEMORY_MAX_BLOCKS);
        let mut memory = Vec::new();
        assert!(!verify_with("x", huge, &mut memory));
        assert!(memory.is_empty());
    }

    #[tokio::test]
    async fn queued_hashing_answers_in_turn() {
        let hash = hash_password_queued("Correct-horse-1").await.expect("hash");
        let checks = (0..6).map(|n| {
            let hash = hash.clone();
            async move {
                let password = if n % 2 == 0 {
                    "Correct-horse-1"
                } else {
                    "wrong"
                };
                verify_password_queued(password, &hash)
                    .await
                    .expect("verify")
            }
        });
        let results = futures_util::future::join_all(checks).await;
        assert_eq!(results, [true, false, true, false, true, false]);
    }

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("base64").len(), 32);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
