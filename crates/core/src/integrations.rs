//! The helpdesks the server follows, as administrators see how that goes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `GET /api/v1/admin/integrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Integrations {
    /// Empty when the server follows no helpdesk (`serve` without `--rt-url`).
    pub helpdesks: Vec<HelpdeskConnection>,
    /// Helpdesks that post webhooks: one entry for each source with a secret or a
    /// delivery.
    pub hooks: Vec<HookSource>,
    /// Integrations' tokens in force, without the tokens themselves.
    pub tokens: Vec<IntegrationToken>,
    /// Where status changes are posted; null without `serve --status-webhook`.
    pub status_webhook: Option<StatusWebhook>,
}

/// One source of webhooks (`zendesk`, `freshdesk`, `generic`) and how its deliveries go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HookSource {
    pub source: String,
    /// Secrets accepted now: two while a rotated one is in its grace period.
    #[ts(type = "number")]
    pub secrets: i64,
    #[ts(type = "number")]
    pub accepted: i64,
    /// Deliveries refused: a wrong signature or secret, a replay, an old timestamp, or a
    /// body that does not map.
    #[ts(type = "number")]
    pub refused: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_accepted_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_refused_at: Option<DateTime<Utc>>,
    /// Why the last refused delivery was refused.
    pub last_refusal: Option<String>,
}

/// An integration's token in force (`agent-desk-server add-integration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct IntegrationToken {
    pub name: String,
    /// `events:write`, `routing:read`.
    pub scopes: Vec<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The status webhook's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct StatusWebhook {
    pub url: String,
    /// Changes waiting to be posted, or to be posted again.
    #[ts(type = "number")]
    pub pending: i64,
    #[ts(type = "number")]
    pub delivered: i64,
    /// Changes not delivered within a day of being made.
    #[ts(type = "number")]
    pub given_up: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// The last failure, until the next delivery.
    pub last_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_error_at: Option<DateTime<Utc>>,
}

/// One helpdesk followed: whether alerts are flowing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HelpdeskConnection {
    /// `request_tracker`.
    pub kind: String,
    /// The helpdesk's address.
    pub url: String,
    /// The last change read (Request Tracker: a transaction id).
    #[ts(type = "number")]
    pub cursor: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_success_at: Option<DateTime<Utc>>,
    /// The helpdesk's time of the newest change read.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_change_at: Option<DateTime<Utc>>,
    /// Seconds since the helpdesk was last read successfully: alerts are at most this
    /// far behind.
    #[ts(type = "number | null")]
    pub lag_seconds: Option<i64>,
    #[ts(type = "number")]
    pub changes_read: i64,
    #[ts(type = "number")]
    pub events_published: i64,
    /// Changes for a ticket owner who is not an agent here.
    #[ts(type = "number")]
    pub skipped_unknown_owner: i64,
    /// Changes not told: sent, or about a ticket sent, in a form that could not be
    /// read, or about a ticket the helpdesk no longer shows (deleted, or moved where the
    /// connector may not see it).
    #[ts(type = "number")]
    pub changes_dropped: i64,
    /// Tickets given back to their queue because their owner was away.
    #[ts(type = "number")]
    pub tickets_released: i64,
    /// Why the helpdesk last refused to give a ticket back, until it gives one back.
    pub release_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub release_error_at: Option<DateTime<Utc>>,
    /// The last failure, until the next success.
    pub last_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_error_at: Option<DateTime<Utc>>,
}
