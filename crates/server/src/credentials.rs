//! Passwords (argon2id) and bearer tokens (256 random bits, stored only as SHA-256).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

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

/// At most this many hashes are computed at once: each takes about 19 MiB and a core, and
/// a flood of sign-ins must queue rather than exhaust memory.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));

/// [`hash_password`] on a blocking thread, queued behind other hashing.
pub async fn hash_password_queued(password: &str) -> Result<String, String> {
    let _permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// [`verify_password`] on a blocking thread, queued behind other hashing.
pub async fn verify_password_queued(password: &str, hash: &str) -> Result<bool, String> {
    let _permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| e.to_string())
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
    fn tokens_are_256_bit_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("base64").len(), 32);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
