//! Request and response bodies of the server's API, and its error shape.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::validation::FieldError;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Shown in the agent's session list, e.g. "Agent Desk".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
}

/// What went wrong, for code to branch on. Messages are for people, codes for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The body is not JSON.
    MalformedJson,
    /// A field has the wrong JSON type.
    WrongType,
    /// A field the endpoint does not know.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// One or more fields break a rule; see `details`.
    ValidationFailed,
    /// The body must be JSON (`Content-Type: application/json`).
    UnsupportedMediaType,
    PayloadTooLarge,
    /// Wrong email or password.
    InvalidCredentials,
    /// Not an email address.
    InvalidEmail,
    /// The current password given to change it is wrong.
    WrongPassword,
    /// A new password breaks the policy; the message says which rule.
    PasswordRejected,
    /// A password-reset token this server never issued.
    InvalidResetToken,
    /// A password-reset token already used, or older than its 30 minutes.
    ResetTokenExpired,
    /// No valid bearer token.
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    /// `If-Match` names an older version.
    VersionConflict,
    /// `If-Match` is required.
    PreconditionRequired,
    /// The request clashes with what is there, such as a name already taken.
    Conflict,
    /// Asked to join a team the agent is already in.
    AlreadyInTeam,
    /// Asked to join a team while an earlier request to it is still open.
    AlreadyRequested,
    /// A decision on a join request that was already approved or denied.
    AlreadyDecided,
    /// A photo in a format the server does not accept; the message lists those it does.
    UnsupportedImage,
    /// A photo wider, taller or with more pixels than the server accepts.
    ImageTooLarge,
    /// A photo that cannot be read: empty, truncated or corrupt.
    InvalidImage,
    /// A crop outside the photo.
    InvalidCrop,
    /// Too many attempts; wait `retry_after_seconds` (also in `Retry-After`).
    RateLimited,
    /// The request's body arrived too slowly (under 1 KiB a second over some window)
    /// and was cut off; nothing was changed.
    RequestTimeout,
    /// An `Idempotency-Key` header that is not 1 to 255 visible ASCII characters.
    InvalidIdempotencyKey,
    /// An upload sent with an `Idempotency-Key` needs `Content-Digest: sha-256=:…:`
    /// (RFC 9530), or its bytes do not match the digest.
    ContentDigestRequired,
    /// An `Idempotency-Key` used before for a different request (another route, body or
    /// `If-Match`): nothing was done.
    IdempotencyKeyReused,
    /// The request with this `Idempotency-Key` is still being answered; try again after
    /// `Retry-After`.
    IdempotencyInFlight,
    /// The request with this `Idempotency-Key` was applied, but its answer was lost (the
    /// server stopped while answering): read the resource again instead of retrying.
    AlreadyApplied,
    /// An email address another agent signs in with or has among their addresses.
    EmailTaken,
    /// The change would leave no active administrator: make another agent one first.
    LastAdministrator,
    /// The right password, for an account an administrator deactivated.
    AccountDeactivated,
    /// The change was made, but the mail it sends could not be handed to the mail server;
    /// asking again sends a new one.
    MailNotSent,
    Internal,
}

/// The error envelope every failing endpoint answers: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// The offending field, by its wire name, when one is to blame.
    pub field: Option<String>,
    /// Every refused field, when validation failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub details: Vec<FieldError>,
    /// With `rate_limited`: how long to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<u32>")]
    pub retry_after_seconds: Option<u64>,
}
