//! Passwords (argon2id) and bearer tokens (256 random bits, stored only as SHA-256).

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// Hashes with argon2id and the library's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// True when `password` matches `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
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
    let output = Output::init_with(output_len, |out| {
        Ok(argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt_raw,
            out,
            &mut *blocks,
        )?)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// [`verify_password`] with `memory` as the hash's working memory.
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
    Output::init_with(expected.len(), |out| {
        Ok(argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt_raw,
            out,
            &mut *blocks,
        )?)
    })
    // Output's equality takes the same time whatever the bytes.
    .is_ok_and(|computed| computed == expected)
}

fn working_memory(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
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

/// Hashes waiting at most: each takes about 40 ms, so the last would wait a few seconds
/// on two cores, well within a client's patience.
const QUEUE_MAX: usize = 128;

/// Work for the hashing threads.
enum Job {
    Hash {
        password: String,
        done: oneshot::Sender<Result<String, String>>,
    },
    Verify {
        password: String,
        hash: String,
        done: oneshot::Sender<bool>,
    },
}

/// Passwords are hashed on a few threads of their own, at most one hash each at a time,
/// each with its 19 MiB of working memory allocated once: a flood of sign-ins queues
/// rather than exhausting memory, and memory does not grow with each thread the runtime
/// happens to hash on.
struct Hashers {
    jobs: mpsc::SyncSender<Job>,
}

impl Hashers {
    fn queue(&self, job: Job) -> Result<(), HashingError> {
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => HashingError::Busy,
            mpsc::TrySendError::Disconnected(_) => {
                HashingError::Failed("no password hashing thread is running".into())
            }
        })
    }
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE_MAX);
    let queue = Arc::new(Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    for n in 0..threads {
        let queue = Arc::clone(&queue);
        let spawned = std::thread::Builder::new()
            .name(format!("password-hashing-{n}"))
            .spawn(move || hash_jobs(&queue));
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start a password hashing thread");
        }
    }
    Hashers { jobs }
});

fn hash_jobs(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            // Its caller went away (the client hung up): no one would read the answer.
            Ok(Job::Hash { done, .. }) if done.is_closed() => {}
            Ok(Job::Verify { done, .. }) if done.is_closed() => {}
            Ok(Job::Hash { password, done }) => {
                let _ = done.send(hash_with(&password, &mut memory).map_err(|e| e.to_string()));
            }
            Ok(Job::Verify {
                password,
                hash,
                done,
            }) => {
                let _ = done.send(verify_with(&password, &hash, &mut memory));
            }
            Err(_) => return,
        }
    }
}

/// [`hash_password`] on the hashing threads, queued behind other hashing.
pub async fn hash_password_queued(password: &str) -> Result<String, HashingError> {
    let (done, hashed) = oneshot::channel();
    HASHERS.queue(Job::Hash {
        password: password.to_owned(),
        done,
    })?;
    hashed
        .await
        .map_err(|e| HashingError::Failed(e.to_string()))?
        .map_err(HashingError::Failed)
}

/// [`verify_password`] on the hashing threads, queued behind other hashing.
pub async fn verify_password_queued(password: &str, hash: &str) -> Result<bool, HashingError> {
    let (done, verified) = oneshot::channel();
    HASHERS.queue(Job::Verify {
        password: password.to_owned(),
        hash: hash.to_owned(),
        done,
    })?;
    verified
        .await
        .map_err(|e| HashingError::Failed(e.to_string()))
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
