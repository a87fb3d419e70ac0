//! Request Tracker 5 as Agent Desk follows it: its REST 2.0 API under `/REST/2.0`, read
//! by transaction id so that nothing is missed or read twice, and written only to give a
//! ticket back to its queue. What a change means for agents is decided in [`feed`].

mod client;
mod error;
pub mod feed;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{Changes, Credentials, RtClient, Ticket, Transaction, UserRef};
pub use error::RtError;
pub use feed::NOBODY;
