//! Request and response bodies of the account endpoints: password change and reset,
//! sessions and recent sign-ins, and the policy the server enforces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::avatar::AvatarPolicy;
use crate::password::PasswordPolicy;

/// How long a password-reset link works.
pub const PASSWORD_RESET_VALID_MINUTES: u32 = 30;

/// `POST /api/v1/auth/password`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    /// Keep the agent's other sessions signed in; by default they are signed out.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub keep_other_sessions: bool,
}

/// What changing the password or signing out other sessions ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SessionsEnded {
    pub signed_out_sessions: u32,
}

/// `POST /api/v1/auth/password-reset`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// The answer to a reset request: the same whether or not the address has an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PasswordResetAccepted {
    pub message: String,
    pub valid_minutes: u32,
}

/// `POST /api/v1/auth/password-reset/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PasswordResetConfirm {
    pub token: String,
    pub new_password: String,
}

/// One signed-in device or app of the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SessionInfo {
    pub id: String,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_seen_at: DateTime<Utc>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub ip_address: Option<String>,
    /// The session the request was made with.
    pub current: bool,
}

/// A sign-in attempt on the agent's account, successful or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SignInAttempt {
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    pub succeeded: bool,
    pub client_name: Option<String>,
    pub ip_address: Option<String>,
}

/// `GET /api/v1/auth/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SessionList {
    /// Most recently used first.
    pub sessions: Vec<SessionInfo>,
    /// The latest sign-in attempts on the account, newest first.
    pub recent_sign_ins: Vec<SignInAttempt>,
}

/// `GET /api/v1/people/{id}/logins`: an agent's sign-in attempts, newest first, for
/// the agent and administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LoginActivity {
    pub sign_ins: Vec<SignInAttempt>,
}

/// `GET /api/v1/policy`: the rules the server enforces, for clients to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Policy {
    pub password: PasswordPolicy,
    pub password_reset_valid_minutes: u32,
    pub avatar: AvatarPolicy,
}
