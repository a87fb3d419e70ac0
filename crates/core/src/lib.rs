//! Agent Desk's shared domain.
//!
//! Everything that crosses a boundary — server ↔ client over HTTP, Rust ↔ UI over
//! IPC — is defined here once; TypeScript bindings are generated from these types
//! (`cargo test -p agent-desk-core` writes them to `ui/src/lib/generated`).
//! This crate depends on nothing else of ours.

pub mod account;
pub mod admin;
pub mod api;
pub mod attachments;
pub mod avatar;
pub mod customers;
pub mod departments;
pub mod events;
pub mod files;
pub mod integrations;
pub mod links;
pub mod locale;
pub mod notifications;
pub mod password;
pub mod people;
pub mod profile;
pub mod routing;
pub mod teams;
pub mod text;
pub mod tickets;
pub mod validation;

pub use account::PASSWORD_RESET_VALID_MINUTES;
pub use api::{ApiError, ErrorBody, ErrorCode, LoginRequest, LoginResponse};
pub use avatar::{
    AvatarCrop, AvatarPolicy, AvatarSource, InitialsAvatar, AVATAR_DEFAULT_MAX_BYTES,
    AVATAR_MIN_SIDE, AVATAR_SIZES,
};
pub use events::{
    Delivery, Event, EventPage, EventTarget, EventType, InvalidField, NewEvent, PostedEvent,
    PresenceChange, PresenceFrame, Priority,
};
pub use locale::{Language, TimeZoneInfo, APP_LANGUAGES, LANGUAGES};
pub use notifications::{
    EmailFrequency, EventPrefs, LockedChange, NotificationChannel, NotificationLock,
    NotificationLocks, NotificationPrefs, QuietHours,
};
pub use password::{
    check_rules, PasswordCheck, PasswordPolicy, PasswordRule, PasswordStrength,
    PasswordStrengthRequest,
};
pub use profile::{
    ContactPrefs, EmailAddress, Profile, ProfileField, ProfilePatch, Status, StatusState,
    StatusUpdate, Visibility,
};
pub use validation::{validate_patch, FieldError, ValidationCode};
