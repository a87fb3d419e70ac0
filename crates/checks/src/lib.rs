//! The checks whose data is large: whether a phone number exists in its country's
//! numbering plan (libphonenumber's metadata, half a megabyte) and how guessable a
//! password is (zxcvbn's dictionaries, nearly a megabyte). The server runs them on every
//! write; the app runs the rules of `agent-desk-core` as the agent types, asks the server
//! for a password's strength, and hears about a number outside its plan at save.

mod password;
mod phone;

pub use password::{check_password, strength};
pub use phone::{customer_phone, phone, validate_patch};
