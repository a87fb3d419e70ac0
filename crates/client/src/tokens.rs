//! Where the session token lives between runs: the OS credential store (Keychain,
//! Windows Credential Manager, Secret Service), never a plain file.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::ClientError;

/// A place to keep one secret per account key.
pub trait TokenStore: Send + Sync {
    fn load(&self, account: &str) -> Result<Option<String>, ClientError>;
    fn save(&self, account: &str, token: &str) -> Result<(), ClientError>;
    fn delete(&self, account: &str) -> Result<(), ClientError>;
}

/// The OS credential store, through the keyring crate.
pub struct KeyringTokenStore {
    service: String,
}

impl KeyringTokenStore {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, ClientError> {
        keyring::Entry::new(&self.service, account).map_err(store_error)
    }
}

fn store_error(error: keyring::Error) -> ClientError {
    ClientError::CredentialStore(error.to_string())
}

impl TokenStore for KeyringTokenStore {
    fn load(&self, account: &str) -> Result<Option<String>, ClientError> {
        match self.entry(account)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(other) => Err(store_error(other)),
        }
    }

    fn save(&self, account: &str, token: &str) -> Result<(), ClientError> {
        self.entry(account)?
            .set_password(token)
            .map_err(store_error)
    }

    fn delete(&self, account: &str) -> Result<(), ClientError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(other) => Err(store_error(other)),
        }
    }
}

/// Keeps tokens in memory only; for tests and for machines without a credential store.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, String>>,
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, account: &str) -> Result<Option<String>, ClientError> {
        Ok(self.tokens.lock().map_err(poisoned)?.get(account).cloned())
    }

    fn save(&self, account: &str, token: &str) -> Result<(), ClientError> {
        self.tokens
            .lock()
            .map_err(poisoned)?
            .insert(account.to_owned(), token.to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), ClientError> {
        self.tokens.lock().map_err(poisoned)?.remove(account);
        Ok(())
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> ClientError {
    ClientError::CredentialStore("the in-memory store is poisoned".into())
}
