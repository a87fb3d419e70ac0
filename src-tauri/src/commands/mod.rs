//! IPC commands, one module a screen. Each parses its arguments and calls library code.

pub mod account;
pub mod admin;
pub mod alerts;
pub mod app;
pub mod computer;
pub mod devices;
pub mod outbox;
pub mod people;
pub mod photo;
pub mod profile;
pub mod records;
pub mod session;
pub mod teams;
